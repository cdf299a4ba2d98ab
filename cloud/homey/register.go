package homey

import (
	"context"
	"fmt"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
)

// CloudName is the value of accounts[].cloud for Homey.
const CloudName = "homey"

// Register adds Homey to r: its settings, its client and its emulator.
func Register(r *cloud.Registry) {
	r.Register(cloud.Registration{
		Name:     CloudName,
		Settings: func() cloud.Settings { return &Settings{} },
		Secrets:  secretKeys,
		New: func(s cloud.Settings, env cloud.Env) (cloud.Provider, error) {
			return New(s.(*Settings).config(env))
		},
		Emulate: emulate,
	})
}

// emulator is the Athom cloud and Homey emulator: one server per account,
// furnished with the demo home or generated devices.
type emulator struct {
	srvs         []*homeytest.Server
	o            cloud.EmulateOptions
	clientID     string
	clientSecret string
}

// emulate starts the Homey emulator.
func emulate(o cloud.EmulateOptions) (cloud.Emulator, error) {
	e := &emulator{o: o, clientID: o.ClientID, clientSecret: o.ClientSecret}
	for n := range o.AccountCount() {
		srv, err := homeytest.Start(homeytest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger,
			CloudAddr: o.Addr(n, 0), HomeyAddr: o.Addr(n, 1)})
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("homey emulator: %w", err)
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

// Accounts implements cloud.Emulator: per server, the Homey through the
// Athom cloud with a fresh refresh token, and the same Homey by its local
// API key.
func (e *emulator) Accounts() []cloud.EmulatedAccount {
	var out []cloud.EmulatedAccount
	for n, srv := range e.srvs {
		_, refresh := srv.IssueTokens()
		name := e.o.AccountName(CloudName, n)
		out = append(out,
			cloud.EmulatedAccount{Name: name, Keys: []cloud.KeyValue{
				{Key: "client_id", Value: e.clientID},
				{Key: "client_secret", Value: e.clientSecret},
				{Key: "refresh_token", Value: refresh},
				{Key: "cloud_url", Value: srv.CloudURL},
			}},
			cloud.EmulatedAccount{Name: name + "-local", ExtraOnly: true, Keys: []cloud.KeyValue{
				{Key: "address", Value: srv.HomeyURL},
				{Key: "api_key", Value: srv.NewAPIKey("homey")},
			}})
	}
	return out
}

// Describe implements cloud.Emulator.
func (e *emulator) Describe() string {
	more := ""
	if len(e.srvs) > 1 {
		more = fmt.Sprintf(" and %d more accounts", len(e.srvs)-1)
	}
	return fmt.Sprintf("Athom cloud at %s, a Homey at %s%s", e.srvs[0].CloudURL, e.srvs[0].HomeyURL, more)
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
