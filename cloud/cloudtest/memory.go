package cloudtest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// MemoryCloud is the smallest cloud there is: lamps kept in memory. It
// shows what a new cloud needs (settings, a provider, one registration)
// and is registered by tests as "memory".
const MemoryCloud = "memory"

// MemorySettings are a memory account's keys: how many lamps it has.
type MemorySettings struct {
	Lamps int `mapstructure:"lamps"`
}

// Validate implements cloud.Settings.
func (s *MemorySettings) Validate(p, _ string) error {
	if s.Lamps < 0 || s.Lamps > 1000 {
		return fmt.Errorf("%s.lamps: %d is out of range: use 0 to 1000", p, s.Lamps)
	}
	return nil
}

// RegisterMemory adds the memory cloud to r.
func RegisterMemory(r *cloud.Registry) {
	r.Register(cloud.Registration{
		Name:     MemoryCloud,
		Settings: func() cloud.Settings { return &MemorySettings{Lamps: 1} },
		New: func(s cloud.Settings, env cloud.Env) (cloud.Provider, error) {
			return NewMemory(env.Account, s.(*MemorySettings).Lamps), nil
		},
	})
}

// Memory is a memory account's provider.
type Memory struct {
	account string
	mu      sync.Mutex
	devices map[string]cloud.Device
	changed chan cloud.Device
}

// NewMemory returns an account with lamps lamps, all off.
func NewMemory(account string, lamps int) *Memory {
	m := &Memory{account: account, devices: map[string]cloud.Device{}, changed: make(chan cloud.Device, 64)}
	for i := range lamps {
		id := fmt.Sprintf("lamp-%d", i+1)
		m.devices[id] = cloud.Device{ID: id, Name: fmt.Sprintf("Lamp %d", i+1), Class: cloud.ClassLight, Type: "lamp", Available: true,
			Fields: []cloud.Field{{Name: cloud.FieldOn, Kind: cloud.KindBool, Writable: true},
				{Name: cloud.FieldBrightness, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(0), Max: cloud.Range(1)}},
			State: map[string]any{cloud.FieldOn: false, cloud.FieldBrightness: 0.0}}
	}
	return m
}

// Account implements cloud.Provider.
func (m *Memory) Account() string { return m.account }

// Cloud implements cloud.Provider.
func (m *Memory) Cloud() string { return MemoryCloud }

// Devices implements cloud.Provider.
func (m *Memory) Devices(context.Context) ([]cloud.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]cloud.Device, 0, len(m.devices))
	for _, d := range m.devices {
		out = append(out, d.Clone())
	}
	return out, nil
}

// Device implements cloud.Provider.
func (m *Memory) Device(_ context.Context, id string) (cloud.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return cloud.Device{}, fmt.Errorf("memory: device %s: %w", id, cloud.ErrNotFound)
	}
	return d.Clone(), nil
}

// Watch implements cloud.Provider: the listing, then every change.
func (m *Memory) Watch(ctx context.Context, report func(cloud.Event)) error {
	devices, _ := m.Devices(ctx)
	report(cloud.Event{Kind: cloud.EventPush, Push: cloud.PushLive})
	report(cloud.Event{Kind: cloud.EventListing, Devices: devices})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case d := <-m.changed:
			report(cloud.Event{Kind: cloud.EventDevice, Device: d})
		}
	}
}

// Set implements cloud.Provider.
func (m *Memory) Set(_ context.Context, id string, c cloud.Change) (cloud.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return cloud.Device{}, fmt.Errorf("memory: set %s: %w", id, cloud.ErrNotFound)
	}
	for k := range c {
		if f, ok := d.Field(k); !ok || !f.Writable {
			return cloud.Device{}, errors.New("memory: set " + id + ": " + k + " is not writable")
		}
	}
	d = d.Clone()
	for k, v := range c {
		d.State[k] = v
	}
	m.devices[id] = d
	select {
	case m.changed <- d.Clone():
	default:
	}
	return d.Clone(), nil
}
