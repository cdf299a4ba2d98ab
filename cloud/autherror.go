package cloud

import "fmt"

// AuthError says that a cloud rejected an account's credentials, or that
// the account has none, and a new login is needed. It wraps ErrAuth. Every
// cloud reports credential failures with it.
type AuthError struct {
	Cloud   string // the cloud's registered name, e.g. "wink"
	Account string
	// Code is the OAuth2 error code the cloud answered (invalid_grant,
	// invalid_client, …) when OAuth is true; otherwise the bridge's own
	// word for what it found (CodeNoCredentials, CodeNoRefreshToken, or a
	// cloud's own such as a refused login).
	Code   string
	OAuth  bool
	Reason string // the cloud's description, or what the bridge found
	// Cause and Fix, when set, are the cloud's own explanation of this
	// failure in words a user acts on; they win over the generic one.
	Cause, Fix string
}

// Codes the bridge sets itself.
const (
	// CodeNoCredentials: no stored token and nothing configured to get one.
	CodeNoCredentials = "no_credentials"
	// CodeNoRefreshToken: the access token expired and nothing renews it.
	CodeNoRefreshToken = "no_refresh_token"
)

// Error says why and how to log in again. It never holds a secret.
func (e *AuthError) Error() string {
	reason := e.Code
	if e.Reason != "" {
		reason += ": " + e.Reason
	}
	return fmt.Sprintf("%s: account %s: %s (%s); log in again with: cloud2mqtt auth login %s", e.Cloud, e.Account, ErrAuth, reason, e.Account)
}

// Unwrap returns ErrAuth.
func (e *AuthError) Unwrap() error { return ErrAuth }

// OAuthCode returns the OAuth2 error code the cloud answered, or "" when
// the bridge found the problem itself.
func (e *AuthError) OAuthCode() string {
	if e.OAuth {
		return e.Code
	}
	return ""
}

// OAuthDescription returns the reason given with the code.
func (e *AuthError) OAuthDescription() string { return e.Reason }

// AccountName returns the account whose credentials failed.
func (e *AuthError) AccountName() string { return e.Account }

// Explanation returns the cloud's own cause and fix, "" when it has none.
func (e *AuthError) Explanation() (cause, fix string) { return e.Cause, e.Fix }
