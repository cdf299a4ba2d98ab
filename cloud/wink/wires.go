package wink

import (
	"slices"
	"strconv"
	"sync"
)

// wireCache shares one wire map among the devices that map their fields to
// the same Wink keys in the same way (most devices of one model): with
// thousands of devices a map each was the largest part of what the client
// keeps. Wire maps are never changed once decoded.
type wireCache struct {
	mu   sync.Mutex
	maps map[string]map[string]wireField
}

// shared returns the cache's map equal to w, adding w when it has none.
func (c *wireCache) shared(w map[string]wireField) map[string]wireField {
	var buf [512]byte
	key := appendWireKey(buf[:0], w)
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.maps[string(key)]; ok {
		return m
	}
	if c.maps == nil {
		c.maps = map[string]map[string]wireField{}
	}
	c.maps[string(key)] = w
	return w
}

// appendWireKey appends to dst a spelling of w: equal maps spell the same.
func appendWireKey(dst []byte, w map[string]wireField) []byte {
	var namesBuf [16]string
	names := namesBuf[:0]
	for n := range w {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f := w[n]
		dst = strconv.AppendQuote(dst, n)
		dst = append(dst, '=')
		dst = strconv.AppendQuote(dst, f.key)
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, int64(f.conv), 10)
		if f.top {
			dst = append(dst, ",top"...)
		}
		if len(f.modes) > 0 {
			modes := make([]string, 0, len(f.modes))
			for k := range f.modes {
				modes = append(modes, k)
			}
			slices.Sort(modes)
			for _, k := range modes {
				dst = append(dst, ',')
				dst = strconv.AppendQuote(dst, k)
				dst = append(dst, ':')
				dst = strconv.AppendQuote(dst, f.modes[k])
			}
		}
		dst = append(dst, ';')
	}
	return dst
}
