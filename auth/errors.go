package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"golang.org/x/oauth2"
)

// StateError says that a callback's state is not the one a login started:
// an old browser tab, a second login, or a forged request.
type StateError struct {
	Account string // the account, when known
}

// Error names the cause.
func (e *StateError) Error() string {
	return "auth: callback state does not match any login in progress"
}

// CallbackError is an error the authorization server sent to the callback
// (error=…&error_description=…), e.g. access_denied when the user refused.
type CallbackError struct {
	Account     string
	Code        string
	Description string
}

// Error names the account and the server's error code and description.
func (e *CallbackError) Error() string {
	s := fmt.Sprintf("auth: account %s: the authorization page answered %s", e.Account, e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// ExchangeError is a failed exchange of an authorization code for tokens.
type ExchangeError struct {
	Account string
	Err     error
}

// Error names the account and the cloud's answer.
func (e *ExchangeError) Error() string {
	return fmt.Sprintf("auth: account %s: exchange the authorization code: %v", e.Account, e.Err)
}

// Unwrap returns the cloud's error.
func (e *ExchangeError) Unwrap() error { return e.Err }

// RedirectMismatchError says that the browser came back to an address
// other than the redirect URI the login used, or never came back at all
// because the authorization server refused the redirect URI.
type RedirectMismatchError struct {
	Account     string
	RedirectURI string        // the redirect URI the login sent
	Got         string        // the address the browser came back to, if any
	Waited      time.Duration // non-zero when no callback arrived at all
}

// Error describes what arrived (or that nothing did).
func (e *RedirectMismatchError) Error() string {
	if e.Got != "" {
		return fmt.Sprintf("auth: account %s: the browser came back to %s, not to the redirect URI %s", e.Account, e.Got, e.RedirectURI)
	}
	return fmt.Sprintf("auth: account %s: no callback reached %s within %s", e.Account, e.RedirectURI, e.Waited)
}

// OAuthError is implemented by cloud errors that carry an OAuth2 error code
// and description (cloud.AuthError does).
type OAuthError interface {
	error
	OAuthCode() string
	OAuthDescription() string
}

// AccountError is implemented by cloud errors that name their account
// (cloud.AuthError does); Explain then names it in the fix.
type AccountError interface {
	error
	AccountName() string
}

// oauthCode finds the OAuth2 error code and description in err's chain: an
// OAuthError, an *oauth2.RetrieveError, or a well-known code in the text.
func oauthCode(err error) (code, desc string) {
	var oe OAuthError
	if errors.As(err, &oe) {
		return oe.OAuthCode(), oe.OAuthDescription()
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode, re.ErrorDescription
	}
	text := err.Error()
	for _, c := range []string{"redirect_uri_mismatch", "invalid_grant", "invalid_client", "access_denied", "unauthorized_client"} {
		if strings.Contains(text, c) {
			return c, text
		}
	}
	return "", ""
}

// accountOf finds the account an auth error is about.
func accountOf(err error) string {
	var (
		se *StateError
		ce *CallbackError
		xe *ExchangeError
		re *RedirectMismatchError
	)
	switch {
	case errors.As(err, &xe):
		return xe.Account
	case errors.As(err, &ce):
		return ce.Account
	case errors.As(err, &re):
		return re.Account
	case errors.As(err, &se):
		return se.Account
	}
	var ae AccountError
	if errors.As(err, &ae) {
		return ae.AccountName()
	}
	return ""
}

// loginCommand is the command that starts a new login for account.
func loginCommand(account string) string {
	if account == "" {
		account = "<account>"
	}
	return "cloud2mqtt auth login " + account
}

// Explainer is implemented by cloud errors that carry the cloud's own
// cause and fix (cloud.AuthError does); Explain prefers them.
type Explainer interface {
	error
	Explanation() (cause, fix string)
}

// Explain turns a login or token error into its cause and the fix, in
// words a user can act on. It never returns secrets: it only reads error
// codes and descriptions.
func Explain(err error) (cause, fix string) {
	return ExplainFor("", err)
}

// ExplainFor is Explain for errors that do not name their account: the
// fix then names account.
func ExplainFor(account string, err error) (cause, fix string) {
	if err == nil {
		return "", ""
	}
	if a := accountOf(err); a != "" {
		account = a
	}
	login := loginCommand(account)
	var (
		se *StateError
		ce *CallbackError
		xe *ExchangeError
		rm *RedirectMismatchError
	)
	switch {
	case errors.As(err, &se):
		return "state mismatch: the callback did not come from the login in progress (an old browser tab, a second login, or a forged request)",
			"start again with " + login + " and open only the newest URL, once"
	case errors.As(err, &rm) && rm.Got != "":
		return fmt.Sprintf("redirect URI mismatch: the browser came back to %s but the login used %s", rm.Got, rm.RedirectURI),
			fmt.Sprintf("register exactly %s for the client, or set the callback address to the registered redirect URI", rm.RedirectURI)
	case errors.As(err, &rm):
		return fmt.Sprintf("redirect URI mismatch (most likely): no callback reached %s within %s; the authorization page refuses a redirect URI that is not registered for the client and then shows \"redirect_uri mismatch\" instead of coming back", rm.RedirectURI, rm.Waited),
			fmt.Sprintf("register exactly %s for the client (or point the callback address at the registered one) and run %s again", rm.RedirectURI, login)
	case errors.As(err, &ce) && ce.Code == "access_denied":
		return "the user denied access on the authorization page",
			"run " + login + " again and allow access"
	case errors.As(err, &ce) && (ce.Code == "redirect_uri_mismatch" || strings.Contains(ce.Description, "redirect")):
		return "redirect URI mismatch: " + ce.Description,
			"register the callback address as the client's redirect URI and run " + login + " again"
	case errors.As(err, &ce):
		return fmt.Sprintf("the authorization page answered %s: %s", ce.Code, ce.Description),
			"run " + login + " again; check the client id"
	}
	var ex Explainer
	if errors.As(err, &ex) {
		if cause, fix := ex.Explanation(); cause != "" {
			return cause, fix
		}
	}
	code, desc := oauthCode(err)
	switch {
	case code == "redirect_uri_mismatch" || (code == "invalid_grant" && strings.Contains(desc, "redirect_uri")):
		return "redirect URI mismatch: the code was issued for another redirect URI",
			"use the redirect URI registered for this client and run " + login + " again"
	case code == "invalid_grant" && (strings.Contains(desc, "password") || strings.Contains(desc, "username")):
		return "email or password rejected (invalid_grant) by the legacy password grant",
			"correct accounts[].email and accounts[].password, or remove them and run " + login
	case code == "invalid_grant" && errors.As(err, &xe):
		return "code reused or expired (invalid_grant): a code can be exchanged once, within seconds, with the redirect URI registered for this client",
			"run " + login + " again and let it finish in one go; do not reload the callback page or paste an old code"
	case code == "invalid_grant":
		return "revoked or expired refresh token (invalid_grant): the cloud no longer accepts the saved login",
			"run " + login
	case code == "invalid_client" || code == "unauthorized_client":
		return "wrong client secret (invalid_client): the cloud did not accept the client id and secret",
			"copy client_id and client_secret again from the cloud's developer page into accounts[].client_id and accounts[].client_secret"
	case code != "":
		return fmt.Sprintf("the cloud refused the credentials (%s)", code), "run " + login
	case unreachable(err):
		return "cloud unreachable: " + err.Error(),
			"check the network connection and accounts[].api_url, then try again"
	case errors.Is(err, cloud.ErrAuth):
		return "credentials rejected: " + err.Error(), "run " + login
	}
	return err.Error(), ""
}

// unreachable reports whether err is a failed connection rather than an
// answer from the cloud.
func unreachable(err error) bool {
	s := err.Error()
	for _, m := range []string{"connection refused", "no such host", "dial tcp", "i/o timeout", "Client.Timeout", "network is unreachable", "connection reset"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
