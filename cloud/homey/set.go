package homey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// capWrite is one capability PUT.
type capWrite struct {
	capID string
	value any
}

// Set sends c to the device, one capability PUT per field, and returns the
// device as re-read afterwards.
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
	base := "/api/manager/devices/device/" + url.PathEscape(id) + "/capability/"
	var sent []string
	defer func() { c.txs.finish(sent) }()
	for _, w := range writes {
		tx := newTransactionID()
		c.txs.add(tx)
		sent = append(sent, tx)
		body := map[string]any{"value": w.value, "transactionId": tx}
		if _, err := c.call(ctx, http.MethodPut, base+url.PathEscape(w.capID), body); err != nil {
			return cloud.Device{}, fmt.Errorf("set %s: %w", w.capID, err)
		}
	}
	nd, err := c.fetch(ctx, id)
	if err != nil {
		return cloud.Device{}, fmt.Errorf("re-read after the change: %w", err)
	}
	return nd.dev.Clone(), nil
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
