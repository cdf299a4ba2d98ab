package bridge

import (
	"strconv"
	"strings"
	"sync"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// keyCache shares the state keys and the fields of devices of the same
// shape: keys depend only on a device's class and fields, and thousands of
// devices often have a few shapes between them. The shared slices are
// never modified.
type keyCache struct {
	mu    sync.Mutex
	byKey map[string]shape
}

// shape is what devices of one shape share.
type shape struct {
	keys   []stateKey
	fields []cloud.Field
}

// keys returns the state keys of d and fields equal to d's, both shared
// with every device of its shape.
func (c *keyCache) keys(d *cloud.Device) ([]stateKey, []cloud.Field) {
	sig := shapeSignature(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.byKey[sig]; ok {
		return s.keys, s.fields
	}
	if c.byKey == nil {
		c.byKey = map[string]shape{}
	}
	// A clone, so that the keys built from d hold nothing of d itself.
	dev := cloud.Device{Class: d.Class, Fields: d.Clone().Fields}
	s := shape{keys: deviceKeys(&dev), fields: dev.Fields}
	c.byKey[sig] = s
	return s.keys, s.fields
}

// shapeSignature is what deviceKeys reads of a device, as a string.
func shapeSignature(d *cloud.Device) string {
	var b strings.Builder
	b.WriteString(string(d.Class))
	for _, f := range d.Fields {
		b.WriteByte(0)
		b.WriteString(f.Name)
		b.WriteByte(1)
		b.WriteString(string(f.Kind))
		b.WriteByte(1)
		b.WriteString(strconv.FormatBool(f.Writable))
		for _, p := range []*float64{f.Min, f.Max, &f.Step} {
			b.WriteByte(1)
			if p != nil {
				b.WriteString(strconv.FormatFloat(*p, 'g', -1, 64))
			}
		}
		b.WriteByte(1)
		b.WriteString(f.Unit)
		b.WriteByte(1)
		b.WriteString(f.Category)
		for _, c := range f.Choices {
			b.WriteByte(2)
			b.WriteString(c)
		}
	}
	return b.String()
}
