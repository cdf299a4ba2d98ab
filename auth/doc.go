// Package auth finishes OAuth2 authorization-code logins through the
// browser and explains credential failures in words.
//
// Login runs `cloud2mqtt auth login <account>`: a one-shot callback server
// on loopback, a random state, the code exchanged the moment it arrives.
// Flows does the same for the status page, where the page's own server
// receives the callback. Explain maps every failure (state mismatch, user
// denied, code reused or expired, redirect URI mismatch, wrong client
// secret, a refused password grant, an unreachable cloud) to a cause and a
// fix. Report and WriteReports are the output of `cloud2mqtt auth check`.
//
// No function here prints or returns a secret: tokens never leave the
// cloud clients, and errors are explained by their codes.
package auth
