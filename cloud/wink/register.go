package wink

import (
	"context"
	"fmt"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// CloudName is the value of accounts[].cloud for Wink.
const CloudName = "wink"

// Register adds Wink to r: its settings, its client and its emulator.
func Register(r *cloud.Registry) {
	r.Register(cloud.Registration{
		Name:     CloudName,
		Settings: func() cloud.Settings { return &Settings{APIURL: DefaultAPIURL} },
		Secrets:  secretKeys,
		New: func(s cloud.Settings, env cloud.Env) (cloud.Provider, error) {
			return New(s.(*Settings).config(env))
		},
		Emulate: emulate,
	})
}

// emulator is the Wink emulator furnished with the demo home.
type emulator struct {
	srv          *winktest.Server
	clientID     string
	clientSecret string
}

// emulate starts the Wink emulator with the demo home.
func emulate(o cloud.EmulateOptions) (cloud.Emulator, error) {
	srv := winktest.NewServer(winktest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger})
	srv.Furnish()
	return &emulator{srv: srv, clientID: o.ClientID, clientSecret: o.ClientSecret}, nil
}

// Accounts implements cloud.Emulator: one account with a fresh refresh
// token.
func (e *emulator) Accounts() []cloud.EmulatedAccount {
	_, refresh := e.srv.IssueTokens()
	return []cloud.EmulatedAccount{{Name: CloudName, Keys: []cloud.KeyValue{
		{Key: "client_id", Value: e.clientID},
		{Key: "client_secret", Value: e.clientSecret},
		{Key: "refresh_token", Value: refresh},
		{Key: "api_url", Value: e.srv.URL},
		{Key: "pubnub_origin", Value: e.srv.PubNubOrigin},
	}}}
}

// Describe implements cloud.Emulator.
func (e *emulator) Describe() string {
	return fmt.Sprintf("Wink REST/OAuth at %s, PubNub at %s (the password grant also takes %s / %s)",
		e.srv.URL, e.srv.PubNubOrigin, winktest.DefaultEmail, winktest.DefaultPassword)
}

// Animate implements cloud.Emulator.
func (e *emulator) Animate(ctx context.Context, every time.Duration) { e.srv.Animate(ctx, every) }

// Close implements cloud.Emulator.
func (e *emulator) Close() { e.srv.Close() }
