package bridge

import (
	"context"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// accountInfo describes an account. Call with b.mu held.
func accountInfo(name string, a *account) AccountInfo {
	info := AccountInfo{Name: name, Cloud: a.provider.Cloud(), Status: a.status,
		Push: shownPush(a), Error: a.problem, Devices: len(a.devices)}
	if pr, ok := a.provider.(cloud.PathReporter); ok {
		info.Path, info.PathReason = pr.Path()
	}
	return info
}

// localHubs is an account's hubs' local control, for providers that have it.
func (b *Bridge) localHubs(name string) []cloud.LocalHub {
	b.mu.RLock()
	a, ok := b.accounts[name]
	b.mu.RUnlock()
	if !ok {
		return nil
	}
	if lr, ok := a.provider.(cloud.LocalReporter); ok {
		return lr.LocalHubs()
	}
	return nil
}

// publishInfo publishes the retained bridge/info.
func (b *Bridge) publishInfo(ctx context.Context) {
	accounts := b.Accounts()
	local := map[string][]cloud.LocalHub{}
	for _, a := range accounts {
		if hubs := b.localHubs(a.Name); len(hubs) > 0 {
			local[a.Name] = hubs
		}
	}
	if b.opts.TokenExpiry != nil {
		for i := range accounts {
			accounts[i].TokenExpiry = b.opts.TokenExpiry(accounts[i].Name)
		}
	}
	info := map[string]any{"version": b.opts.Version, "accounts": accounts,
		"base_topic": b.topics.Base, "discovery_prefix": b.topics.DiscoveryPrefix}
	if b.opts.Config != nil {
		info["config"] = b.opts.Config
	}
	if len(local) > 0 {
		info["local_hubs"] = local // account → its hubs' local control
	}
	b.publishJSON(ctx, b.topics.BridgeInfo(), info, true)
}

// DeviceInfo is one entry of the retained bridge/devices list.
type DeviceInfo struct {
	Account      string      `json:"account"`
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	Type         string      `json:"type"`
	CloudType    string      `json:"cloud_type"`
	Topic        string      `json:"topic"`
	Manufacturer string      `json:"manufacturer,omitempty"`
	Model        string      `json:"model,omitempty"`
	Available    bool        `json:"available"`
	Fields       []FieldInfo `json:"fields"`
	Discovery    string      `json:"discovery_id"`
	Hub          string      `json:"hub_id,omitempty"`
	Area         string      `json:"area,omitempty"`
	UpdatedAt    *time.Time  `json:"updated_at,omitempty"`
}

// FieldInfo describes one key of a device's state object.
type FieldInfo struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Writable bool     `json:"writable"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	Choices  []string `json:"choices,omitempty"`
}

// Devices returns the bridge/devices list.
func (b *Bridge) Devices() []DeviceInfo {
	entries := b.entries("")
	if len(entries) == 0 {
		return nil
	}
	out := make([]DeviceInfo, 0, len(entries))
	for _, e := range entries {
		b.mu.RLock()
		out = append(out, deviceInfo(e))
		b.mu.RUnlock()
	}
	return out
}

func deviceInfo(e *entry) DeviceInfo {
	d := &e.device
	typ := e.mainType
	if typ == "" {
		typ = mainType(e, components(e, nil))
	}
	info := DeviceInfo{Account: e.account, ID: d.ID, Name: d.Name, Type: typ,
		CloudType: d.Type, Topic: e.topic, Manufacturer: d.Manufacturer, Model: d.Model,
		Available: d.Available, Discovery: e.discoveryID, Hub: d.HubID, Area: d.Area}
	if !d.UpdatedAt.IsZero() {
		t := d.UpdatedAt
		info.UpdatedAt = &t
	}
	if len(e.keys) > 0 {
		info.Fields = make([]FieldInfo, 0, len(e.keys))
	}
	for _, k := range e.keys {
		info.Fields = append(info.Fields, k.info())
	}
	return info
}

// publishDevices publishes the retained bridge/devices list.
func (b *Bridge) publishDevices(ctx context.Context) {
	devices := b.Devices()
	if devices == nil {
		devices = []DeviceInfo{}
	}
	payload, err := encodeDevices(devices)
	if err != nil {
		b.log.Error("cannot encode message", "topic", b.topics.BridgeDevices(), "error", err)
		return
	}
	_ = b.publish(ctx, b.topics.BridgeDevices(), payload, true)
}

// AccountInfo is one account's status as bridge/info shows it.
type AccountInfo struct {
	Name    string `json:"name"`
	Cloud   string `json:"cloud"`
	Status  string `json:"status"`          // connecting, connected, auth_required, error
	Push    string `json:"push"`            // live, polling, off (auth_required)
	Error   string `json:"error,omitempty"` // why the account is not connected, in words
	Devices int    `json:"devices"`
	// TokenExpiry is when the account's token or session ends, when known
	// (filled in bridge/info from Options.TokenExpiry).
	TokenExpiry time.Time `json:"token_expiry,omitzero"`
	// Path is how the account reaches its cloud or hub (a provider that is
	// a cloud.PathReporter) and PathReason why.
	Path       string `json:"path,omitempty"`
	PathReason string `json:"path_reason,omitempty"`
}

// Accounts returns every account's status, in configuration order. It is
// safe for concurrent use.
func (b *Bridge) Accounts() []AccountInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]AccountInfo, 0, len(b.order))
	for _, n := range b.order {
		out = append(out, accountInfo(n, b.accounts[n]))
	}
	return out
}

// DeviceState is a device with its current MQTT state object.
type DeviceState struct {
	DeviceInfo
	State map[string]any
}

// DeviceStates returns every device with its state, ordered by topic. It is
// safe for concurrent use.
func (b *Bridge) DeviceStates() []DeviceState {
	var out []DeviceState
	for _, e := range b.entries("") {
		b.mu.RLock()
		out = append(out, DeviceState{DeviceInfo: deviceInfo(e), State: stateObject(&e.device, e.keys)})
		b.mu.RUnlock()
	}
	return out
}
