package cloud

import (
	"context"
	"time"
)

// The capabilities below are optional: a Provider has one when it
// implements the interface, and callers find it by type assertion.

// Loginer is a provider that logs in through the browser with an OAuth
// authorization code (`cloud2mqtt auth login`, the page's Connect button).
type Loginer interface {
	// Account is the account's configured name.
	Account() string
	// AuthCodeURL is the cloud's authorization page for state and
	// redirectURI; "" when this account has no browser login.
	AuthCodeURL(state, redirectURI string) string
	// Exchange trades code for tokens and stores them.
	Exchange(ctx context.Context, code, redirectURI string) error
}

// CredentialChecker is a provider that tests its credentials against the
// cloud and, when they fail, names the cause and the fix (`auth check`).
type CredentialChecker interface {
	Check(ctx context.Context) CredentialReport
}

// CredentialExpirer is a provider whose credentials end at a known time:
// an access token or a session, for the status page and bridge/info.
type CredentialExpirer interface {
	// CredentialExpiry is when the current token or session ends; zero when
	// unknown or never.
	CredentialExpiry() time.Time
}

// PathReporter is a provider that reaches its cloud or hub by one of
// several paths (a hub on the LAN, or the cloud's relay), for the status
// page and bridge/info.
type PathReporter interface {
	// Path is the path in use ("local_secure", "local", "cloud", …) and
	// why it was chosen, in words; both "" before the first connection.
	Path() (path, reason string)
}

// CredentialReport is the result of checking one account's credentials,
// as `cloud2mqtt auth check` prints it. It never holds a secret: Email is
// masked and no token or client secret is kept.
type CredentialReport struct {
	Account, Cloud string
	OK             bool
	Cause, Fix     string    // why the check failed and what to do; empty when OK
	Subject        string    // the user's id (JWT sub, or the cloud's user id)
	Username       string    // JWT preferred_username or the user's name
	Email          string    // masked, e.g. j***@example.com
	Expiry         time.Time // when the access token expires; zero if unknown
	Details        []string  // further facts, one line each
}
