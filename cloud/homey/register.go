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

// emulator is the Athom cloud and Homey emulator furnished with the demo
// home.
type emulator struct {
	srv          *homeytest.Server
	clientID     string
	clientSecret string
}

// emulate starts the Homey emulator with the demo home.
func emulate(o cloud.EmulateOptions) (cloud.Emulator, error) {
	srv := homeytest.NewServer(homeytest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger})
	srv.Furnish()
	return &emulator{srv: srv, clientID: o.ClientID, clientSecret: o.ClientSecret}, nil
}

// Accounts implements cloud.Emulator: the Homey through the Athom cloud
// with a fresh refresh token, and the same Homey by its local API key.
func (e *emulator) Accounts() []cloud.EmulatedAccount {
	_, refresh := e.srv.IssueTokens()
	return []cloud.EmulatedAccount{
		{Name: CloudName, Keys: []cloud.KeyValue{
			{Key: "client_id", Value: e.clientID},
			{Key: "client_secret", Value: e.clientSecret},
			{Key: "refresh_token", Value: refresh},
			{Key: "cloud_url", Value: e.srv.CloudURL},
		}},
		{Name: CloudName + "-local", ExtraOnly: true, Keys: []cloud.KeyValue{
			{Key: "address", Value: e.srv.HomeyURL},
			{Key: "api_key", Value: e.srv.NewAPIKey("homey")},
		}},
	}
}

// Describe implements cloud.Emulator.
func (e *emulator) Describe() string {
	return fmt.Sprintf("Athom cloud at %s, a Homey at %s", e.srv.CloudURL, e.srv.HomeyURL)
}

// Animate implements cloud.Emulator.
func (e *emulator) Animate(ctx context.Context, every time.Duration) { e.srv.Animate(ctx, every) }

// Close implements cloud.Emulator.
func (e *emulator) Close() { e.srv.Close() }
