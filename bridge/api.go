package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// request is a bridge API request: <base>/bridge/request/<action>.
type request struct {
	Transaction any            `json:"transaction,omitempty"`
	ID          string         `json:"id,omitempty"`      // device/get: "<account>/<device>" or a cloud id
	Account     string         `json:"account,omitempty"` // refresh, discover: limit to one account
	Options     map[string]any `json:"options,omitempty"` // options
}

// requestHandlers lists the bridge API actions.
func (b *Bridge) requestHandlers() map[string]func(context.Context, request) (any, error) {
	return map[string]func(context.Context, request) (any, error){
		"health_check": b.healthCheck,
		"refresh":      b.refreshRequest,
		"discover":     b.discoverRequest,
		"device/get":   b.deviceGetRequest,
		"options":      b.optionsRequest,
	}
}

// onRequest answers <base>/bridge/request/<action> on
// <base>/bridge/response/<action> with status, data, error and the
// request's transaction.
func (b *Bridge) onRequest(m mqtt.Message) {
	action := strings.TrimPrefix(m.Topic, b.topics.Base+"/bridge/request/")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*b.opts.CommandTimeout)
		defer cancel()
		req, err := parseRequest(m.Payload)
		var data any
		if err == nil {
			h, ok := b.requestHandlers()[action]
			if !ok {
				names := sortedKeys(b.requestHandlers())
				err = fmt.Errorf("unknown request %q; known: %s", action, strings.Join(names, ", "))
			} else {
				data, err = h(ctx, req)
			}
		}
		resp := map[string]any{"status": "ok", "data": data}
		if data == nil {
			resp["data"] = map[string]any{}
		}
		if err != nil {
			resp["status"] = "error"
			resp["error"] = err.Error()
			b.log.Warn("bridge request failed", "action", action, "error", err)
		}
		if req.Transaction != nil {
			resp["transaction"] = req.Transaction
		}
		b.publishJSON(ctx, b.topics.BridgeResponse(action), resp, false)
	}()
}

// parseRequest reads a bridge request payload; empty means no options.
func parseRequest(payload []byte) (request, error) {
	var req request
	if p := strings.TrimSpace(string(payload)); p != "" && p != "{}" {
		if dup, found := duplicateKey(payload); found {
			return request{}, fmt.Errorf("the request has %q twice: send each key once", dup)
		}
		if err := json.Unmarshal(payload, &req); err != nil {
			return request{}, fmt.Errorf("the request is not a JSON object (%s): send e.g. {\"transaction\":\"1\"}", jsonProblem(err))
		}
	}
	return req, nil
}

func (b *Bridge) healthCheck(context.Context, request) (any, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	accounts := map[string]any{}
	healthy := true
	for _, n := range b.order {
		a := b.accounts[n]
		accounts[n] = map[string]any{"status": a.status, "push": shownPush(a), "devices": len(a.devices)}
		if a.status != StatusConnected {
			healthy = false
		}
	}
	return map[string]any{"healthy": healthy, "accounts": accounts}, nil
}

// accountsFor is the accounts a request addresses.
func (b *Bridge) accountsFor(req request) ([]string, error) {
	if req.Account == "" {
		return b.order, nil
	}
	if !slices.Contains(b.order, req.Account) {
		return nil, fmt.Errorf("unknown account %q; configured: %s", req.Account, strings.Join(b.order, ", "))
	}
	return []string{req.Account}, nil
}

// relist lists the accounts' devices again and waits until the bridge has
// applied the listings. It returns the device ids per account before.
func (b *Bridge) relist(ctx context.Context, names []string) (map[string][]string, error) {
	before := map[string][]string{}
	var problems []string
	for _, name := range names {
		before[name] = b.deviceIDs(name)
		devices, err := b.accounts[name].provider.Devices(ctx)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if err := b.apply(ctx, name, cloud.Event{Kind: cloud.EventListing, Devices: devices}); err != nil {
			return nil, err
		}
	}
	if len(problems) > 0 {
		return before, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return before, nil
}

// apply hands an event to the run loop and waits until it is applied.
func (b *Bridge) apply(ctx context.Context, account string, ev cloud.Event) error {
	reply := make(chan struct{})
	select {
	case b.events <- accountEvent{account: account, ev: ev, reply: reply}:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return fmt.Errorf("the bridge is stopping")
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return fmt.Errorf("the bridge is stopping")
	}
}

func (b *Bridge) deviceIDs(name string) []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	ids := make([]string, 0, len(b.accounts[name].devices))
	for id := range b.accounts[name].devices {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// refreshRequest re-reads every device's state from the cloud.
func (b *Bridge) refreshRequest(ctx context.Context, req request) (any, error) {
	names, err := b.accountsFor(req)
	if err != nil {
		return nil, err
	}
	if _, err := b.relist(ctx, names); err != nil {
		return nil, err
	}
	count := 0
	for _, n := range names {
		count += len(b.deviceIDs(n))
	}
	return map[string]any{"devices": count}, nil
}

// discoverRequest picks up devices added to or removed from the cloud.
func (b *Bridge) discoverRequest(ctx context.Context, req request) (any, error) {
	names, err := b.accountsFor(req)
	if err != nil {
		return nil, err
	}
	before, err := b.relist(ctx, names)
	if err != nil {
		return nil, err
	}
	added, removed := []string{}, []string{}
	for _, n := range names {
		after := b.deviceIDs(n)
		for _, id := range after {
			if !slices.Contains(before[n], id) {
				added = append(added, n+"/"+id)
			}
		}
		for _, id := range before[n] {
			if !slices.Contains(after, id) {
				removed = append(removed, n+"/"+id)
			}
		}
	}
	return map[string]any{"added": added, "removed": removed}, nil
}

// deviceGetRequest re-reads one device from the cloud and answers with its
// description and state.
func (b *Bridge) deviceGetRequest(ctx context.Context, req request) (any, error) {
	e := b.findDevice(req.ID)
	if e == nil {
		return nil, fmt.Errorf("unknown device %q: give \"<account>/<device topic name>\" or a cloud id; see %s", req.ID, b.topics.BridgeDevices())
	}
	b.mu.RLock()
	account, id := e.account, e.device.ID
	p := b.accounts[account].provider
	b.mu.RUnlock()
	d, err := p.Device(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := b.apply(ctx, account, cloud.Event{Kind: cloud.EventDevice, Device: d}); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return map[string]any{"device": deviceInfo(e), "state": stateObject(&e.device, e.keys)}, nil
}

// findDevice finds a device by "<account>/<slug>", "<account>/<cloud id>"
// or a cloud id alone.
func (b *Bridge) findDevice(ref string) *entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if account, rest, ok := strings.Cut(ref, "/"); ok {
		if a, ok := b.accounts[account]; ok {
			if e, ok := a.devices[a.slugs[rest]]; ok {
				return e
			}
			if e, ok := a.devices[rest]; ok {
				return e
			}
		}
	}
	for _, n := range b.order {
		if e, ok := b.accounts[n].devices[ref]; ok {
			return e
		}
	}
	return nil
}

// optionsRequest changes options at run time: log_level.
func (b *Bridge) optionsRequest(_ context.Context, req request) (any, error) {
	if len(req.Options) == 0 {
		return nil, fmt.Errorf(`no options given: send {"options":{"log_level":"debug"}}`)
	}
	changed := map[string]any{}
	for k, v := range req.Options {
		switch k {
		case "log_level":
			if b.opts.LogLevel == nil {
				return nil, fmt.Errorf("log_level cannot be changed at run time in this setup")
			}
			s, _ := v.(string)
			var level slog.Level
			if err := level.UnmarshalText([]byte(s)); err != nil || s == "" {
				return nil, fmt.Errorf("log_level %s: use debug, info, warn or error", describe(v))
			}
			b.opts.LogLevel.Set(level)
			b.log.Info("log level changed", "level", level.String())
			changed[k] = strings.ToLower(level.String())
		default:
			return nil, fmt.Errorf("option %q cannot be changed at run time; known: log_level", k)
		}
	}
	return map[string]any{"changed": changed, "restart_required": false}, nil
}
