package homey

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// capWrite is one capability PUT.
type capWrite struct {
	capID string
	value any
}

// Set sends c to the device, one capability write per field (over the
// realtime socket while it is connected, else HTTP PUT), and returns the
// device as the Homey confirmed it, without re-reading it.
//
// The PUTs go in the order a person expects: "on" first when switching on,
// so that a light that ignores dim while off still ends up on; then
// light_mode (derived from the colour fields sent), hue, saturation and
// colour temperature; then brightness and the other fields; "on" last when
// switching off, so that the device ends up off even when dimming would
// switch it on. {"on":true,"brightness":0.5} is therefore onoff true, then
// dim 0.5.
func (c *Client) Set(ctx context.Context, id string, ch cloud.Change) (cloud.Device, error) {
	dev, err := c.set(ctx, id, ch)
	if err != nil {
		return cloud.Device{}, fmt.Errorf("homey: account %s: set %s: %w", c.cfg.Account, id, err)
	}
	return dev, nil
}

func (c *Client) set(ctx context.Context, id string, ch cloud.Change) (cloud.Device, error) {
	if len(ch) == 0 {
		return cloud.Device{}, errors.New("empty change")
	}
	d, ok := c.lookup(id)
	if !ok {
		var err error
		if d, err = c.fetch(ctx, id); err != nil {
			return cloud.Device{}, err
		}
	}
	writes, err := plan(d, ch)
	if err != nil {
		return cloud.Device{}, err
	}
	c.mu.Lock()
	noControl := c.noControl
	c.mu.Unlock()
	if noControl {
		return cloud.Device{}, &ScopeError{Account: c.cfg.Account, Local: c.local, Scope: ScopeDeviceControl, Op: "changing devices",
			Message: "the session's scopes do not include it"}
	}
	var sent []string
	defer func() { c.txs.finish(sent) }()
	for _, w := range writes {
		tx := newTransactionID()
		c.txs.add(tx)
		sent = append(sent, tx)
		if err := c.writeCapability(ctx, id, w, tx); err != nil {
			return cloud.Device{}, fmt.Errorf("set %s: %w", w.capID, err)
		}
	}
	return c.confirmed(d, writes).dev.Clone(), nil
}

// confirmed is the device as the Homey confirmed the writes (each answered
// success): the cached device, which capability events keep current, with
// the written values in. It costs no request.
func (c *Client) confirmed(before decoded, writes []capWrite) decoded {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := before.dev.ID
	d, ok := c.known[id]
	if !ok {
		d = before
	}
	raw := d.raw
	raw.CapabilitiesObj = maps.Clone(d.raw.CapabilitiesObj)
	now := float64(time.Now().UnixMilli())
	for _, w := range writes {
		rc, ok := raw.CapabilitiesObj[w.capID]
		if !ok {
			continue
		}
		if rc.Getable == nil || *rc.Getable {
			rc.Value = w.value
		}
		rc.LastUpdated = now
		raw.CapabilitiesObj[w.capID] = rc
	}
	nd := decodeRaw(raw, c.zones)
	c.known[id] = nd
	return nd
}

// plan validates a change and orders its capability writes.
func plan(d decoded, ch cloud.Change) ([]capWrite, error) {
	var first, color, middle, last []capWrite
	names := make([]string, 0, len(ch))
	for name := range ch {
		names = append(names, name)
	}
	sort.Strings(names)
	mode := ""
	for _, name := range names {
		v := ch[name]
		w, ok := d.wire[name]
		if !ok {
			return nil, fmt.Errorf("field %q: the device has no such field", name)
		}
		if f, _ := d.dev.Field(name); !f.Writable {
			return nil, fmt.Errorf("field %q is read-only", name)
		}
		hv, err := toHomey(v, w)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		cw := capWrite{capID: w.capID, value: hv}
		switch w.capID {
		case "onoff":
			if hv == true {
				first = append(first, cw)
			} else {
				last = append(last, cw)
			}
		case "light_hue", "light_saturation":
			mode = "color"
			color = append(color, cw)
		case "light_temperature":
			if mode == "" {
				mode = "temperature"
			}
			color = append(color, cw)
		default:
			middle = append(middle, cw)
		}
	}
	// Hue before saturation before temperature.
	rank := map[string]int{"light_hue": 0, "light_saturation": 1, "light_temperature": 2}
	sort.SliceStable(color, func(i, j int) bool { return rank[color[i].capID] < rank[color[j].capID] })
	// Brightness before the remaining fields.
	sort.SliceStable(middle, func(i, j int) bool { return middle[i].capID == "dim" && middle[j].capID != "dim" })
	out := first
	if mode != "" && d.hasMod {
		out = append(out, capWrite{capID: "light_mode", value: mode})
	}
	out = append(out, color...)
	out = append(out, middle...)
	return append(out, last...), nil
}
