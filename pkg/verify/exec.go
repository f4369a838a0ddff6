package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// logNote starts the lines ExecOS adds to a log (the command's verdict),
// which are not the command's own output.
const logNote = "# hardenfix verify: "

// Output is what a command printed and how it ended.
type Output struct {
	Stdout   string
	Combined string // stdout and stderr as they came
	ExitCode int
}

// Exec runs commands. ExecOS runs them for real; tests use a fake that
// records the command lines and answers from a script.
type Exec interface {
	Run(ctx context.Context, c Command) (Output, error)
}

// ErrTimeout is returned (wrapped) when a command ran past its Timeout and
// was killed.
var ErrTimeout = errors.New("time limit exceeded")

// ExecOS runs commands as processes in their own process group, so a
// build killed at its time limit takes its RUN steps with it.
type ExecOS struct{}

// Run runs c; a non-zero exit is an error that names the command and ends
// with the last lines of its output.
func (ExecOS) Run(ctx context.Context, c Command) (Output, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout bytes.Buffer
	var both lockedBuffer
	var logw io.Writer = io.Discard
	if c.Log != "" {
		f, err := os.Create(c.Log)
		if err != nil {
			return Output{}, err
		}
		defer f.Close()
		fmt.Fprintf(f, "$ %s\n", c)
		logw = f
	}
	both.w = logw
	cmd.Stdout = io.MultiWriter(&stdout, &both)
	cmd.Stderr = &both
	err := cmd.Run()
	out := Output{Stdout: stdout.String(), Combined: both.String()}
	if cmd.ProcessState != nil {
		out.ExitCode = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && c.Timeout > 0 {
			err = fmt.Errorf("%w (%s): killed", ErrTimeout, c.Timeout)
		} else if ctx.Err() != nil {
			err = ctx.Err()
		}
		if c.Log != "" {
			fmt.Fprintf(logw, "\n%s%v\n", logNote, err)
		}
		return out, &CommandError{Command: c, Err: err, Output: out.Combined}
	}
	return out, nil
}

// CommandError is a command that failed.
type CommandError struct {
	Command Command
	Err     error
	Output  string
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Command.Argv[0]+" "+strings.Join(e.Command.Argv[1:min(len(e.Command.Argv), 3)], " "), e.Err)
	if t := lastLines(e.Output, 3); t != "" {
		msg += ": " + strings.ReplaceAll(t, "\n", " | ")
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// lockedBuffer collects the output of the two pipes of a process, and
// copies it to w (the log file).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	w  io.Writer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(p)
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "\n")
}
