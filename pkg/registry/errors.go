package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Sentinel errors a rule can test with errors.Is to decide what to tell the
// user. Every error a Resolver method returns for a failed lookup is an
// *Error that matches exactly one of them.
var (
	// ErrAuth: the registry wants credentials (401) or refused the ones it
	// got (403). Docker Hub also answers 401 for repositories that do not
	// exist, so the message says so.
	ErrAuth = errors.New("authentication required")
	// ErrNotFound: the repository, tag or digest does not exist (404,
	// MANIFEST_UNKNOWN, NAME_UNKNOWN). Unlike the others this is an answer,
	// not a failure of the registry.
	ErrNotFound = errors.New("not found")
	// ErrPlatformNotFound: the image exists but has no image for the
	// platform asked for.
	ErrPlatformNotFound = errors.New("no image for the platform")
	// ErrRateLimited: the registry answered 429 after the bounded retries;
	// Error.RetryAfter holds the wait it asked for, if it said.
	ErrRateLimited = errors.New("rate limited")
	// ErrTimeout: a request took longer than the per-request timeout.
	ErrTimeout = errors.New("timed out")
	// ErrTLS: the TLS handshake failed (unknown authority, wrong host name,
	// a plain-HTTP server), or plain HTTP was refused for a host that was
	// not named insecure.
	ErrTLS = errors.New("TLS failure")
	// ErrServer: the registry answered 5xx after the bounded retries.
	ErrServer = errors.New("registry server error")
	// ErrUnreachable: the connection failed (refused, DNS, reset).
	ErrUnreachable = errors.New("registry unreachable")
	// ErrInvalid: the registry answered something that cannot be trusted:
	// a digest that does not match the content, a manifest above the size
	// limit, a body that does not parse.
	ErrInvalid = errors.New("invalid registry response")
	// ErrStale matches a *StaleError: the registry failed and the answer
	// returned beside the error came from the disk cache, past its TTL.
	ErrStale = errors.New("served from cache")
)

// Error is a failed lookup: what was asked (Ref, as the caller wrote it),
// which host answered (the mirror, when one is configured), and what went
// wrong (Kind, one of the sentinel errors above).
type Error struct {
	Kind   error
	Ref    string
	Host   string
	Status int // HTTP status, 0 when there was no response
	// RetryAfter is the wait a 429 or 503 asked for (Retry-After), zero
	// when it did not say.
	RetryAfter time.Duration
	Err        error // the underlying error, for the details
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Ref != "" {
		b.WriteString(e.Ref)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.Error())
	if e.Host != "" {
		fmt.Fprintf(&b, " (%s", e.Host)
		if e.Status != 0 {
			fmt.Fprintf(&b, ", HTTP %d", e.Status)
		}
		b.WriteString(")")
	}
	switch {
	case e.Kind == ErrRateLimited && e.RetryAfter > 0:
		fmt.Fprintf(&b, "; the registry asked to wait %s", e.RetryAfter)
	case e.Kind == ErrAuth && e.Status == 401:
		b.WriteString("; log in (docker login) or check the name: some registries answer 401 for repositories that do not exist")
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool { return target == e.Kind }

// StaleError is returned beside an answer served from the disk cache past
// its TTL because the registry failed. Err is the registry's error; the
// answer is still usable, and a rule that uses it should say so ("served
// from cache, registry said …"). A caller that treats any error as failure
// stays on the safe side.
type StaleError struct {
	Err    error     // what the registry said
	Stored time.Time // when the cached answer was fetched
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("served from cache (fetched %s), registry said: %v", e.Stored.UTC().Format(time.RFC3339), e.Err)
}

func (e *StaleError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrStale) true; errors.Is with the registry's
// own kind (ErrTimeout, ...) also matches through Unwrap.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// IsStale reports whether err says the returned answer came from a stale
// cache entry, and returns the details.
func IsStale(err error) (*StaleError, bool) {
	var se *StaleError
	ok := errors.As(err, &se)
	return se, ok
}

// errPlainHTTP is returned by the transport for plain-HTTP requests to a
// host that was not named insecure.
type errPlainHTTP struct{ host string }

func (e errPlainHTTP) Error() string {
	return fmt.Sprintf("plain HTTP to %s refused (allow it with --insecure-registry %s)", e.host, e.host)
}

// errTimeout is returned by the transport when a request outlives the
// per-request timeout.
type errTimeout struct{ d time.Duration }

func (e errTimeout) Error() string { return fmt.Sprintf("no answer within %s", e.d) }

// Timeout lets net.Error users see it as a timeout.
func (e errTimeout) Timeout() bool { return true }

// classifyNetErr names the kind of a transport-level failure (no HTTP
// response): timeout, TLS, or unreachable.
func classifyNetErr(err error) error {
	var (
		to        errTimeout
		plain     errPlainHTTP
		certErr   *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		recErr    tls.RecordHeaderError
		alert     tls.AlertError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &to):
		return ErrTimeout
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalid), errors.As(err, &recErr), errors.As(err, &alert),
		errors.As(err, &plain):
		return ErrTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrTimeout
	case strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return ErrTLS
	}
	return ErrUnreachable
}
