package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/config"
	"github.com/cloud2mqtt/cloud2mqtt/metrics"
	"github.com/cloud2mqtt/cloud2mqtt/web"
)

// startPage serves the status page in the background until ctx ends,
// unless web.listen is off.
func startPage(ctx context.Context, cfg *config.Config, b *bridge.Bridge, providers []cloud.Provider,
	store *tokenstore.Store, obs *observability, log *slog.Logger) error {
	src := pageSource{bridge: b, expiry: credentialExpiry(providers), note: credentialNote(providers), changes: obs.changes}
	obs.source.Store(&src)
	if cfg.Web.Listen == "" || cfg.Web.Listen == "off" {
		return nil
	}
	logins := map[string]auth.Loginer{}
	for _, p := range providers {
		if l, ok := p.(cloud.Loginer); ok && l.AuthCodeURL("probe", "http://127.0.0.1/", "") != "" {
			logins[p.Account()] = l
		}
	}
	page, err := web.New(web.Options{
		Listen: cfg.Web.Listen, Password: cfg.Web.Password, PublicURL: cfg.Web.PublicURL,
		Source: src, Logins: logins,
		Logger:          log.With("component", "web"),
		BrokerConnected: obs.brokerConnected, Metrics: metrics.Handler(obs.registry),
	})
	if err != nil {
		return err
	}
	go func() {
		if err := page.ListenAndServe(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
			log.Warn("status page stopped; the bridge goes on without it", "listen", cfg.Web.Listen, "error", err)
		}
	}()
	log.Info("status page", "url", "http://"+cfg.Web.Listen)
	return nil
}

// pageSource shows the bridge's accounts and devices on the page.
type pageSource struct {
	bridge  *bridge.Bridge
	expiry  func(account string) time.Time // when an account's token or session ends
	note    func(account string) string    // why that is not known
	changes *bridge.Changes
}

// Accounts implements web.Source.
func (s pageSource) Accounts() []web.AccountView {
	var out []web.AccountView
	for _, a := range s.bridge.Accounts() {
		out = append(out, web.AccountView{Name: a.Name, Cloud: a.Cloud, Status: a.Status, Push: a.Push,
			Error: a.Error, CanLogin: true, TokenExpiry: s.expiry(a.Name), ExpiryNote: s.note(a.Name),
			Path: a.Path, PathReason: a.PathReason})
	}
	return out
}

// Devices implements web.Source.
func (s pageSource) Devices() []web.DeviceView {
	var out []web.DeviceView
	for _, d := range s.bridge.DeviceStates() {
		units, labels := map[string]string{}, map[string]string{}
		for _, f := range d.Fields {
			units[f.Name], labels[f.Name] = f.Unit, bridge.FieldLabel(f.Name)
		}
		v := web.DeviceView{Account: d.Account, Name: d.Name, Type: d.Type, Topic: d.Topic,
			Available: d.Available, State: d.State, Units: units, Labels: labels}
		if d.UpdatedAt != nil {
			v.UpdatedAt = *d.UpdatedAt
		}
		out = append(out, v)
	}
	return out
}

// credentialExpiry returns when an account's token or session ends, by
// its provider's cloud.CredentialExpirer; zero when unknown.
func credentialExpiry(providers []cloud.Provider) func(account string) time.Time {
	return byAccount(providers, cloud.CredentialExpirer.CredentialExpiry)
}

// credentialNote returns why an account's expiry is not known, by its
// provider's cloud.CredentialNoter; "" when it is, or the cloud cannot say.
func credentialNote(providers []cloud.Provider) func(account string) string {
	return byAccount(providers, cloud.CredentialNoter.CredentialNote)
}

// byAccount asks each account's provider that has capability C for a
// value: the zero value for an account whose provider lacks it.
func byAccount[C any, V any](providers []cloud.Provider, get func(C) V) func(account string) V {
	capable := map[string]C{}
	for _, p := range providers {
		if c, ok := p.(C); ok {
			capable[p.Account()] = c
		}
	}
	return func(account string) V {
		c, ok := capable[account]
		if !ok {
			var zero V
			return zero
		}
		return get(c)
	}
}
