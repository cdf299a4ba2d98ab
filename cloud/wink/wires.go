package wink

import (
	"slices"
	"strconv"
	"strings"
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
	key := wireKey(w)
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.maps[key]; ok {
		return m
	}
	if c.maps == nil {
		c.maps = map[string]map[string]wireField{}
	}
	c.maps[key] = w
	return w
}

// wireKey spells out a wire map: equal maps have equal keys.
func wireKey(w map[string]wireField) string {
	names := make([]string, 0, len(w))
	for n := range w {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		f := w[n]
		b.WriteString(strconv.Quote(n))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(f.key))
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(int(f.conv)))
		if f.top {
			b.WriteString(",top")
		}
		if len(f.modes) > 0 {
			modes := make([]string, 0, len(f.modes))
			for k := range f.modes {
				modes = append(modes, k)
			}
			slices.Sort(modes)
			for _, k := range modes {
				b.WriteString("," + strconv.Quote(k) + ":" + strconv.Quote(f.modes[k]))
			}
		}
		b.WriteByte(';')
	}
	return b.String()
}
