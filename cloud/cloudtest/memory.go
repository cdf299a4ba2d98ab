package cloudtest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/outage"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/internal/backoff"
)

// MemoryCloud is the smallest cloud there is, kept in memory: what a new
// cloud needs (settings, a provider, one registration), built on the
// pieces every cloud shares. Tests register it as "memory".
const MemoryCloud = "memory"

// MemorySettings are a memory account's keys.
type MemorySettings struct {
	Lamps int `mapstructure:"lamps"` // how many lamps the home has
}

// Validate implements cloud.Settings.
func (s *MemorySettings) Validate(p, _ string) error {
	if s.Lamps < 0 || s.Lamps > 1000 {
		return fmt.Errorf("%s.lamps: %d is out of range: use 0 to 1000", p, s.Lamps)
	}
	return nil
}

// RegisterMemory adds the memory cloud to r; each account gets a home of
// its own.
func RegisterMemory(r *cloud.Registry) {
	r.Register(cloud.Registration{
		Name:     MemoryCloud,
		Settings: func() cloud.Settings { return &MemorySettings{Lamps: 1} },
		New: func(s cloud.Settings, env cloud.Env) (cloud.Provider, error) {
			home := NewMemoryHome(s.(*MemorySettings).Lamps)
			return NewMemory(env.Account, home, home.IssueToken(), env.Tokens), nil
		},
	})
}

// Memory is a memory account's provider.
type Memory struct {
	account, configured string
	home                *MemoryHome
	tokens              *tokenstore.Store
	// Resync is how often Watch re-reads everything; default 100ms.
	Resync time.Duration
}

// NewMemory returns the provider of account at home, with token unless the
// store holds a newer one.
func NewMemory(account string, home *MemoryHome, token string, tokens *tokenstore.Store) *Memory {
	return &Memory{account: account, configured: token, home: home, tokens: tokens, Resync: 100 * time.Millisecond}
}

// Account implements cloud.Provider.
func (m *Memory) Account() string { return m.account }

// Cloud implements cloud.Provider.
func (m *Memory) Cloud() string { return MemoryCloud }

// call runs do at the home, waiting out a 429's Retry-After and retrying
// a 5xx, twice at most.
func (m *Memory) call(ctx context.Context, do func() error) error {
	for try := 1; ; try++ {
		token := m.configured
		if t := m.tokens.Usable(m.account, nil); t != nil {
			token = t.AccessToken
		}
		err := m.home.serve(m.account, token, do)
		if err == nil || cloud.Permanent(err) || try > 2 {
			return err
		}
		wait := cloud.RetryAfter(err)
		if wait == 0 {
			wait = backoff.Delay(try)
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Devices implements cloud.Provider.
func (m *Memory) Devices(ctx context.Context) ([]cloud.Device, error) {
	var out []cloud.Device
	err := m.call(ctx, func() error {
		out = nil
		for _, id := range m.home.order {
			if d, ok := m.home.devices[id]; ok {
				out = append(out, d.Clone())
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list devices: %w", err)
	}
	return out, nil
}

// Device implements cloud.Provider.
func (m *Memory) Device(ctx context.Context, id string) (cloud.Device, error) {
	var out cloud.Device
	err := m.call(ctx, func() error {
		d, ok := m.home.devices[id]
		if !ok {
			return cloud.ErrNotFound
		}
		out = d.Clone()
		return nil
	})
	if err != nil {
		return cloud.Device{}, fmt.Errorf("memory: device %s: %w", id, err)
	}
	return out, nil
}

// Set implements cloud.Provider.
func (m *Memory) Set(ctx context.Context, id string, c cloud.Change) (cloud.Device, error) {
	var out cloud.Device
	err := m.call(ctx, func() error {
		d, ok := m.home.devices[id]
		if !ok {
			return cloud.ErrNotFound
		}
		d = d.Clone()
		for k, v := range c {
			if f, ok := d.Field(k); !ok || !f.Writable {
				return fmt.Errorf("%w: %s is not a writable field", cloud.ErrInvalid, k)
			}
			d.State[k] = v
		}
		m.home.devices[id] = d
		m.home.pushLocked(d)
		out = d.Clone()
		return nil
	})
	if err != nil {
		return cloud.Device{}, fmt.Errorf("memory: set %s: %w", id, err)
	}
	return out, nil
}

// Watch implements cloud.Provider: the listing, every push, and a re-read
// every Resync that repairs a lost push.
func (m *Memory) Watch(ctx context.Context, report func(cloud.Event)) error {
	pushes := make(chan cloud.Device, 64)
	m.home.mu.Lock()
	m.home.watchers[pushes] = true
	m.home.mu.Unlock()
	defer func() {
		m.home.mu.Lock()
		delete(m.home.watchers, pushes)
		m.home.mu.Unlock()
	}()
	health := &outage.Tracker{Cloud: "Memory", Report: report}
	health.SetPush(cloud.PushLive)
	var last []cloud.Device
	resync := time.NewTicker(m.Resync)
	defer resync.Stop()
	for {
		if ds, err := m.Devices(ctx); err != nil && ctx.Err() == nil {
			health.Failed(err)
		} else if err == nil {
			health.OK()
			if !slices.EqualFunc(ds, last, sameDevice) {
				report(cloud.Event{Kind: cloud.EventListing, Devices: ds})
				last = ds
			}
		}
		for next := false; !next; {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case d := <-pushes:
				report(cloud.Event{Kind: cloud.EventDevice, Device: d})
			case <-resync.C:
				next = true
			}
		}
	}
}

func sameDevice(a, b cloud.Device) bool {
	return a.ID == b.ID && a.Name == b.Name && fmt.Sprint(a.State) == fmt.Sprint(b.State)
}
