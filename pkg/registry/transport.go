package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// RetryPolicy bounds how long a lookup keeps trying when the registry
// answers 429 (rate limited) or a retryable 5xx (500, 502, 503, 504).
type RetryPolicy struct {
	// Retries is the number of attempts after the first (default 2).
	Retries int
	// MaxWait bounds the total time spent waiting between attempts of one
	// request (default 10s). A Retry-After longer than what is left is not
	// waited for: the lookup fails at once with the wait in its error.
	MaxWait time.Duration
	// Backoff is the first wait when the registry does not say how long
	// to wait (default 500ms); it doubles on each retry.
	Backoff time.Duration
}

// DefaultRetryPolicy is used unless WithRetryPolicy says otherwise.
var DefaultRetryPolicy = RetryPolicy{Retries: 2, MaxWait: 10 * time.Second, Backoff: 500 * time.Millisecond}

// hostTransport is the HTTP layer under go-containerregistry's auth
// transport, so it sees every request (pings, token fetches, manifests,
// blobs) exactly as sent. It
//   - refuses plain HTTP except to hosts named insecure;
//   - sets the user agent;
//   - keeps at most perHost requests in flight per host;
//   - bounds each attempt by the per-request timeout (headers and body);
//   - retries 429 and 5xx within the RetryPolicy, honouring Retry-After;
//   - answers repeated pings (GET /v2/) of a host from the first answer,
//     since go-containerregistry pings once per repository;
//   - counts the requests it sends.
type hostTransport struct {
	next      http.RoundTripper
	userAgent string
	timeout   time.Duration
	insecure  func(host string) bool
	retry     RetryPolicy
	perHost   int

	mu    sync.Mutex
	sems  map[string]chan struct{}
	pings map[string]*cachedPing

	pingFlight singleflight.Group

	// down holds, per scheme://host, the error that showed the host
	// cannot be reached (a timeout, a refused connection, a failed TLS
	// handshake); later requests to it fail at once with that error, so a
	// stopped registry costs one timeout per run, not one per reference.
	down map[string]error

	requests atomic.Int64
}

type cachedPing struct {
	status int
	header http.Header
	body   []byte
}

func (t *hostTransport) sem(host string) chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sems[host]
	if !ok {
		s = make(chan struct{}, t.perHost)
		t.sems[host] = s
	}
	return s
}

func (t *hostTransport) RoundTrip(in *http.Request) (*http.Response, error) {
	if in.URL.Scheme == "http" && !t.insecure(in.URL.Host) {
		if in.Body != nil {
			in.Body.Close()
		}
		return nil, errPlainHTTP{host: in.URL.Host}
	}
	if in.Method != http.MethodGet || in.URL.Path != "/v2/" {
		return t.roundTrip(in)
	}
	// A ping. go-containerregistry pings once per repository; the answer
	// only depends on the host, so concurrent pings share one request and
	// a 200 or 401 answer is replayed for the rest of the run.
	key := in.URL.Scheme + "://" + in.URL.Host
	t.mu.Lock()
	p := t.pings[key]
	t.mu.Unlock()
	if p == nil {
		v, err, _ := t.pingFlight.Do(key, func() (any, error) {
			resp, err := t.roundTrip(in)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			if err != nil {
				return nil, err
			}
			p := &cachedPing{status: resp.StatusCode, header: resp.Header.Clone(), body: body}
			if p.status == http.StatusOK || p.status == http.StatusUnauthorized {
				t.mu.Lock()
				t.pings[key] = p
				t.mu.Unlock()
			}
			return p, nil
		})
		if err != nil {
			return nil, err
		}
		p = v.(*cachedPing)
	}
	return &http.Response{
		Status:     strconv.Itoa(p.status) + " " + http.StatusText(p.status),
		StatusCode: p.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        p.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(p.body)),
		ContentLength: int64(len(p.body)),
		Request:       in,
	}, nil
}

// roundTrip sends one request, with retries, under the host's limit.
func (t *hostTransport) roundTrip(in *http.Request) (*http.Response, error) {
	ctx := in.Context()
	req := in.Clone(ctx)
	if t.userAgent != "" {
		req.Header.Set("User-Agent", t.userAgent)
	}
	hostKey := req.URL.Scheme + "://" + req.URL.Host
	t.mu.Lock()
	downErr := t.down[hostKey]
	t.mu.Unlock()
	if downErr != nil {
		return nil, hostDownError{err: downErr}
	}
	sem := t.sem(req.URL.Host)
	waited := time.Duration(0)
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		release := sync.OnceFunc(func() { <-sem })
		actx, cancel := context.WithTimeout(ctx, t.timeout)
		t.requests.Add(1)
		resp, err := t.next.RoundTrip(req.WithContext(actx))
		if err != nil {
			timedOut := actx.Err() == context.DeadlineExceeded && ctx.Err() == nil
			cancel()
			release()
			if timedOut {
				err = errTimeout{t.timeout}
			}
			if ctx.Err() == nil && hostIsDown(err) {
				t.mu.Lock()
				if t.down == nil {
					t.down = map[string]error{}
				}
				t.down[hostKey] = err
				t.mu.Unlock()
			}
			return nil, err
		}
		if wait, ok := t.retryWait(resp, attempt, waited); ok && (req.Body == nil || req.GetBody != nil) {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			cancel()
			release()
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return nil, ctx.Err()
			}
			waited += wait
			continue
		}
		resp.Body = &attemptBody{ReadCloser: resp.Body, ctx: actx, parent: ctx, timeout: t.timeout, done: func() { cancel(); release() }}
		return resp, nil
	}
}

// retryWait says whether to retry resp and after how long.
func (t *hostTransport) retryWait(resp *http.Response, attempt int, waited time.Duration) (time.Duration, bool) {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if attempt >= t.retry.Retries {
		return 0, false
	}
	wait, said := retryAfter(resp.Header, time.Now())
	if !said {
		wait = t.retry.Backoff << attempt
	}
	if waited+wait > t.retry.MaxWait {
		return 0, false
	}
	return wait, true
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// attemptBody keeps the attempt's timeout running while the body is read,
// frees the host slot on Close, and turns a deadline into errTimeout.
type attemptBody struct {
	io.ReadCloser
	ctx, parent context.Context
	timeout     time.Duration
	done        func()
	once        sync.Once
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() == context.DeadlineExceeded && b.parent.Err() == nil {
		err = errTimeout{b.timeout}
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// hostIsDown says whether err shows the host cannot be reached at all:
// it timed out, refused or could not resolve, or failed the TLS handshake.
func hostIsDown(err error) bool {
	var to errTimeout
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &to), errors.As(err, &dns):
		return true
	case errors.As(err, &op) && op.Op == "dial":
		return true
	}
	return classifyNetErr(err) == ErrTLS
}

// hostDownError is returned for requests to a host already found down.
type hostDownError struct{ err error }

func (e hostDownError) Error() string {
	return "an earlier request showed the host is down: " + e.err.Error()
}

func (e hostDownError) Unwrap() error { return e.err }
