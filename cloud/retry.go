package cloud

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// ErrInvalid is returned (wrapped) for a change the cloud's client refuses
// before sending anything: a field the device lacks, a read-only field, a
// value of the wrong kind. Sending it again cannot succeed.
var ErrInvalid = errors.New("change not accepted")

// StatusError is implemented by cloud errors that carry the HTTP status
// the cloud answered.
type StatusError interface {
	error
	HTTPStatus() int
}

// RetryAfterError is implemented by cloud errors whose answer said when to
// try again (a 429's or 503's Retry-After).
type RetryAfterError interface {
	error
	RetryAfter() time.Duration
}

// Permanent reports whether a failed Set or Device call cannot succeed by
// sending it again: rejected credentials, an unknown device, a change the
// client refused, a cancelled caller, or an answer the cloud gives for a
// bad request (4xx other than 408, 425 and 429). Everything else — 5xx,
// 429, timeouts, refused connections, a session renewal that failed — may
// succeed later; both clouds' writes are idempotent, so they are retried.
func Permanent(err error) bool {
	switch {
	case errors.Is(err, ErrAuth), errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid), errors.Is(err, context.Canceled):
		return true
	}
	var se StatusError
	if errors.As(err, &se) {
		s := se.HTTPStatus()
		return s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooEarly && s != http.StatusTooManyRequests
	}
	return false
}

// RetryAfter returns how long the cloud asked to wait before the next try,
// zero when it did not say.
func RetryAfter(err error) time.Duration {
	var re RetryAfterError
	if errors.As(err, &re) {
		return re.RetryAfter()
	}
	return 0
}
