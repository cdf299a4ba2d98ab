package cloud

import (
	"context"
	"time"
)

// The capabilities below are optional: a Provider has one when it
// implements the interface, and callers find it by type assertion.

// Loginer is a provider that logs in through the browser with an OAuth
// authorization code (`cloud2mqtt auth login`, the page's Connect button).
// Every login carries a fresh PKCE verifier (RFC 7636): a cloud that takes
// PKCE sends its S256 challenge with the authorization and the verifier
// with the exchange; one that does not ignores it.
type Loginer interface {
	// Account is the account's configured name.
	Account() string
	// AuthCodeURL is the cloud's authorization page for state and
	// redirectURI, with the challenge of verifier; "" when this account has
	// no browser login.
	AuthCodeURL(state, redirectURI, verifier string) string
	// Exchange trades code for tokens, proving verifier, and stores them.
	Exchange(ctx context.Context, code, redirectURI, verifier string) error
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

// CredentialNoter is a CredentialExpirer that can say why its expiry is
// not known, or that there is none ("an API key does not expire").
type CredentialNoter interface {
	// CredentialNote explains a zero CredentialExpiry; "" when it is known.
	CredentialNote() string
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

// LocalReporter is a provider that sends commands to hubs on the local
// network before the cloud: it reports each hub's local control for
// bridge/info.
type LocalReporter interface {
	LocalHubs() []LocalHub
}

// LocalHub is one hub's local control as bridge/info shows it.
type LocalHub struct {
	Hub       string  `json:"hub"`                  // the hub's device id
	State     string  `json:"local"`                // ok, failing or off
	Reason    string  `json:"reason,omitempty"`     // why it is failing
	LatencyMS float64 `json:"latency_ms,omitempty"` // the last local command's round trip
}
