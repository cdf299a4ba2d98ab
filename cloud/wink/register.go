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

// emulator is the Wink emulator: one server per account, furnished with
// the demo home or generated devices.
type emulator struct {
	srvs         []*winktest.Server
	o            cloud.EmulateOptions
	clientID     string
	clientSecret string
}

// emulate starts the Wink emulator.
func emulate(o cloud.EmulateOptions) (cloud.Emulator, error) {
	e := &emulator{o: o, clientID: o.ClientID, clientSecret: o.ClientSecret}
	for n := range o.AccountCount() {
		srv, err := winktest.Start(winktest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger,
			RESTAddr: o.Addr(n, 0), PubNubAddr: o.Addr(n, 1)})
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("wink emulator: %w", err)
		}
		e.srvs = append(e.srvs, srv)
		if o.Devices > 0 {
			srv.FurnishGenerated(o.Devices, o.AccountName(CloudName, n))
		} else {
			srv.Furnish()
		}
	}
	return e, nil
}

// Accounts implements cloud.Emulator: one account per server with a fresh
// refresh token.
func (e *emulator) Accounts() []cloud.EmulatedAccount {
	out := make([]cloud.EmulatedAccount, 0, len(e.srvs))
	for n, srv := range e.srvs {
		_, refresh := srv.IssueTokens()
		out = append(out, cloud.EmulatedAccount{Name: e.o.AccountName(CloudName, n), Keys: []cloud.KeyValue{
			{Key: "client_id", Value: e.clientID},
			{Key: "client_secret", Value: e.clientSecret},
			{Key: "refresh_token", Value: refresh},
			{Key: "api_url", Value: srv.URL},
			{Key: "pubnub_origin", Value: srv.PubNubOrigin},
		}})
	}
	return out
}

// Describe implements cloud.Emulator.
func (e *emulator) Describe() string {
	srv := e.srvs[0]
	more := ""
	if len(e.srvs) > 1 {
		more = fmt.Sprintf(" and %d more accounts", len(e.srvs)-1)
	}
	return fmt.Sprintf("Wink REST/OAuth at %s, PubNub at %s%s (the password grant also takes %s / %s)",
		srv.URL, srv.PubNubOrigin, more, winktest.DefaultEmail, winktest.DefaultPassword)
}

// Animate implements cloud.Emulator.
func (e *emulator) Animate(ctx context.Context, every time.Duration) {
	for _, srv := range e.srvs[1:] {
		go srv.Animate(ctx, every)
	}
	e.srvs[0].Animate(ctx, every)
}

// Close implements cloud.Emulator.
func (e *emulator) Close() {
	for _, srv := range e.srvs {
		srv.Close()
	}
}
