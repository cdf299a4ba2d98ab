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
	src := pageSource{bridge: b, expiry: credentialExpiry(providers), changes: obs.changes}
	obs.source.Store(&src)
	if cfg.Web.Listen == "" || cfg.Web.Listen == "off" {
		return nil
	}
	logins := map[string]auth.Loginer{}
	for _, p := range providers {
		if l, ok := p.(cloud.Loginer); ok && l.AuthCodeURL("probe", "http://127.0.0.1/") != "" {
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
	changes *bridge.Changes
}

// Accounts implements web.Source.
func (s pageSource) Accounts() []web.AccountView {
	var out []web.AccountView
	for _, a := range s.bridge.Accounts() {
		out = append(out, web.AccountView{Name: a.Name, Cloud: a.Cloud, Status: a.Status, Push: a.Push,
			Error: a.Error, CanLogin: true, TokenExpiry: s.expiry(a.Name), Path: a.Path, PathReason: a.PathReason})
	}
	return out
}

// Devices implements web.Source.
func (s pageSource) Devices() []web.DeviceView {
	var out []web.DeviceView
	for _, d := range s.bridge.DeviceStates() {
		units := map[string]string{}
		for _, f := range d.Fields {
			units[f.Name] = f.Unit
		}
		v := web.DeviceView{Account: d.Account, Name: d.Name, Type: d.Type, Topic: d.Topic,
			Available: d.Available, State: d.State, Units: units}
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
	byAccount := map[string]cloud.CredentialExpirer{}
	for _, p := range providers {
		if e, ok := p.(cloud.CredentialExpirer); ok {
			byAccount[p.Account()] = e
		}
	}
	return func(account string) time.Time {
		if e, ok := byAccount[account]; ok {
			return e.CredentialExpiry()
		}
		return time.Time{}
	}
}
