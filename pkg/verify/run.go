package verify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hardenfix/hardenfix/pkg/config"
)

// RunState is how a container behaved during the run window.
type RunState struct {
	// StartErr is set when the container could not be started at all.
	StartErr string `json:"startError,omitempty"`
	// Running says it was still running at the end of the window; else it
	// had exited with ExitCode.
	Running  bool   `json:"running"`
	ExitCode int    `json:"exitCode"`
	Output   string `json:"output,omitempty"` // the last lines it printed
	// full is the output's first fullLines lines, where the first error
	// usually is (a stack trace follows it).
	full string
	// Exec is the exit code and output of verify.run, HTTP the status of
	// verify.http ("" when not configured or the probe could not run).
	Exec     *ExecResult `json:"exec,omitempty"`
	HTTP     string      `json:"http,omitempty"`
	HTTPNote string      `json:"httpNote,omitempty"`
}

// ExecResult is what a verify.run command gave.
type ExecResult struct {
	ExitCode int    `json:"exitCode"`
	Output   string `json:"output,omitempty"`
}

func (s RunState) String() string {
	switch {
	case s.StartErr != "":
		return "did not start: " + s.StartErr
	case s.Running:
		return "still running"
	}
	return fmt.Sprintf("exited with code %d", s.ExitCode)
}

// outputLines is how much of a container's output is kept for reports,
// fullLines how much is searched for its first error lines.
const (
	outputLines = 20
	fullLines   = 200
)

// observe runs both images the same way for the window: started together,
// detached, on no network; at the end each one's state, output and the
// configured probes, then both are removed.
func (v *Verifier) observe(ctx context.Context, names [2]string, images [2]string, set config.VerifySettings) [2]RunState {
	var out [2]RunState
	e := v.engine
	var started [2]bool
	for i := range images {
		if _, err := v.run(ctx, e.Start(names[i], images[i])); err != nil {
			out[i].StartErr = shortError(err)
			continue
		}
		started[i] = true
	}
	defer func() {
		// Both, started or not: a start cut short by an interrupt may
		// have created its container.
		for i := range names {
			v.run(context.WithoutCancel(ctx), e.RemoveContainer(names[i]))
		}
	}()
	select {
	case <-time.After(v.opts.RunWindow):
	case <-ctx.Done():
		return out
	}
	var wg sync.WaitGroup
	for i := range images {
		if !started[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &out[i]
			if o, err := v.run(ctx, e.State(names[i])); err == nil {
				f := strings.Fields(o.Stdout)
				if len(f) == 2 {
					st.Running = f[0] == "true"
					st.ExitCode, _ = strconv.Atoi(f[1])
				}
			} else {
				st.StartErr = shortError(err)
				return
			}
			if o, err := v.run(ctx, e.Logs(names[i])); err == nil {
				st.Output = lastLines(o.Combined, outputLines)
				lines := strings.SplitN(o.Combined, "\n", fullLines+1)
				st.full = strings.Join(lines[:min(len(lines), fullLines)], "\n")
			}
			if len(set.Run) > 0 {
				st.Exec = v.execCheck(ctx, names[i], images[i], st.Running, set.Run)
			}
			if set.HTTP != nil {
				if !st.Running {
					st.HTTPNote = "the container was not running"
				} else {
					st.HTTP, st.HTTPNote = v.httpProbe(ctx, names[i], images, set.HTTP.URL())
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// execCheck runs verify.run inside the running container, or in a fresh
// one with the command as its entrypoint when the image's own has exited.
func (v *Verifier) execCheck(ctx context.Context, name, image string, running bool, cmd []string) *ExecResult {
	c := v.engine.Exec(name, cmd...)
	if !running {
		c = v.engine.RunOnce(image, "none", cmd[0], cmd[1:]...)
	}
	c.Timeout = v.opts.RunTimeout
	o, err := v.run(ctx, c)
	r := &ExecResult{ExitCode: o.ExitCode, Output: lastLines(o.Combined, outputLines)}
	if err != nil && o.ExitCode == 0 {
		r.ExitCode = -1 // killed, or the engine failed
		r.Output = shortError(err)
	}
	return r
}

// httpProbers are the tools an image may have to make an HTTP request;
// each prints the status code.
var httpProbers = [][]string{
	{"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "URL"},
	{"wget", "-S", "-q", "-O", "/dev/null", "URL"},
	{"python3", "-c", "import sys,urllib.request as u,urllib.error as e\ntry: print(u.urlopen(sys.argv[1], timeout=5).status)\nexcept e.HTTPError as x: print(x.code)", "URL"},
	{"node", "-e", "require('http').get(process.argv[1], r => console.log(r.statusCode)).on('error', e => { console.error(e.message); process.exit(1) })", "URL"},
}

// statusLine is a response's status line (wget -S); statusCode the code
// alone, which curl, python3 and node print.
var (
	statusLine = regexp.MustCompile(`HTTP/[0-9.]+ ([1-5][0-9][0-9])\b`)
	statusCode = regexp.MustCompile(`^\s*([1-5][0-9][0-9])\s*$`)
)

// httpProbe asks url from inside the container's network namespace: with a
// tool of the container itself (exec), else with one of the other image
// of the pair run in the container's namespace (run --network
// container:NAME). It returns the status code, or a note saying why there
// is none.
func (v *Verifier) httpProbe(ctx context.Context, name string, images [2]string, url string) (string, string) {
	try := func(c Command) (string, bool, error) {
		c.Timeout = v.opts.RunTimeout
		o, err := v.run(ctx, c)
		if err != nil && missingTool(o) {
			return "", false, nil
		}
		// wget exits non-zero on a 404 but prints the status line.
		if m := statusLine.FindStringSubmatch(o.Combined); m != nil {
			return m[1], true, nil
		}
		if err != nil {
			return "", true, err
		}
		if m := statusCode.FindStringSubmatch(o.Stdout); m != nil {
			return m[1], true, nil
		}
		return "", true, fmt.Errorf("no status in %q", lastLines(o.Combined, 2))
	}
	var lastErr error
	for _, via := range []string{"exec", images[0], images[1]} {
		for _, p := range httpProbers {
			args := append([]string{}, p...)
			args[len(args)-1] = url
			c := v.engine.Exec(name, args...)
			if via != "exec" {
				c = v.engine.RunOnce(via, "container:"+name, args[0], args[1:]...)
			}
			for attempt := 0; attempt < 3; attempt++ {
				status, found, err := try(c)
				if !found {
					break
				}
				if err == nil {
					return status, ""
				}
				lastErr = err
				time.Sleep(time.Second) // the server may still be starting
			}
			if lastErr != nil {
				return "", "no answer: " + shortError(lastErr)
			}
		}
	}
	return "", "cannot probe: neither image has curl, wget, python3 or node"
}

// missingTool tells a command that could not start (no such binary in the
// image) from one that ran and failed.
func missingTool(o Output) bool {
	if o.ExitCode == 126 || o.ExitCode == 127 {
		return true
	}
	s := strings.ToLower(o.Combined)
	return strings.Contains(s, "executable file not found") || strings.Contains(s, "no such file or directory: oci runtime")
}

// sameBehaviour compares the rewritten container (after) with the
// original (before): both still running, or both exited with the same
// code and similar output; and the same verify.run exit code and
// verify.http status. It returns "" when they behave alike, else why not.
func sameBehaviour(before, after RunState, window time.Duration) string {
	switch {
	case before.StartErr != "":
		return "" // nothing to compare with; reported as the original's failure
	case after.StartErr != "":
		return "the rewritten container did not start: " + after.StartErr
	case before.Running && !after.Running:
		return fmt.Sprintf("the rewritten container exited with code %d within %s; the original was still running", after.ExitCode, window)
	case !before.Running && after.Running:
		return fmt.Sprintf("the rewritten container was still running after %s; the original had exited with code %d", window, before.ExitCode)
	case !before.Running && before.ExitCode != after.ExitCode:
		return fmt.Sprintf("the rewritten container exited with code %d; the original with %d", after.ExitCode, before.ExitCode)
	case !before.Running && !similarOutput(before.Output, after.Output):
		return "the rewritten container printed something else than the original"
	}
	if before.Exec != nil && after.Exec != nil && before.Exec.ExitCode != after.Exec.ExitCode {
		return fmt.Sprintf("verify.run exited with code %d in the rewritten container; %d in the original", after.Exec.ExitCode, before.Exec.ExitCode)
	}
	if before.HTTP != "" && after.HTTP != before.HTTP {
		got := after.HTTP
		if got == "" {
			got = after.HTTPNote
		}
		return fmt.Sprintf("verify.http answered %s in the rewritten container; %s in the original", got, before.HTTP)
	}
	return ""
}

var digits = regexp.MustCompile(`[0-9]+`)

// similarOutput compares what two containers printed word by word,
// ignoring numbers (times, PIDs, sizes): at least half of the words of the
// longer output must be in the other too. Word order and line breaks do
// not matter, so a line that names the new user or its home
// ("user app, home /home/app" for "user root, home /root") still matches,
// and a different message ("Permission denied") does not.
func similarOutput(a, b string) bool {
	words := func(s string) map[string]int {
		m := map[string]int{}
		for _, w := range strings.Fields(digits.ReplaceAllString(s, "0")) {
			m[w]++
		}
		return m
	}
	wa, wb := words(a), words(b)
	na, nb, common := 0, 0, 0
	for w, n := range wa {
		na += n
		common += min(n, wb[w])
	}
	for _, n := range wb {
		nb += n
	}
	if na == 0 && nb == 0 {
		return true
	}
	return 2*common >= max(na, nb)
}

// shortError is an error on one line.
func shortError(err error) string {
	var ce *CommandError
	if errors.As(err, &ce) {
		if t := lastLines(ce.Output, 1); t != "" {
			return t
		}
		return ce.Err.Error()
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
