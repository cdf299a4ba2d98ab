// Package jsonobj decodes a JSON object into map[string]any exactly as
// json.Unmarshal does, faster for the plain JSON of cloud answers: a
// document it does not take on (a \u escape of a surrogate, invalid UTF-8,
// a number out of range, a syntax error) goes to json.Unmarshal, so that
// results and errors are always encoding/json's.
package jsonobj

import (
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode decodes data, a JSON object, as json.Unmarshal(data, &m) would
// with a nil map m.
func Decode(data []byte) (map[string]any, error) {
	return decode(data, len(data) >= internFrom)
}

// Keys keeps the object keys that documents decoded with it spelt, so
// that the next documents of the same kind (a cloud's answers and pushes,
// each an object of the same hundred keys) share their strings instead of
// making them again. It keeps at most maxKeys. The zero Keys is ready to
// use; a Keys is safe for concurrent use (a decode that finds it in use
// makes its keys as Decode does).
type Keys struct {
	mu   sync.Mutex
	seen map[string]string
}

// Decode is the package's Decode, its keys taken from k where k has them.
func (k *Keys) Decode(data []byte) (map[string]any, error) {
	if !k.mu.TryLock() {
		return Decode(data)
	}
	defer k.mu.Unlock()
	if k.seen == nil {
		k.seen = make(map[string]string, 256)
	}
	return decodeWith(data, k.seen, len(data) >= internFrom)
}

// decode is Decode, with the object keys interned and short values shared
// or not.
func decode(data []byte, intern bool) (map[string]any, error) {
	var keys map[string]string
	if intern {
		keys = make(map[string]string, 256)
	}
	return decodeWith(data, keys, intern)
}

// decodeWith decodes data, its keys interned in keys unless keys is nil,
// its short values shared when share is set.
func decodeWith(data []byte, keys map[string]string, share bool) (map[string]any, error) {
	p := parser{data: data, keys: keys}
	if share {
		p.strs, p.nums = make(map[string]any, 256), make(map[string]any, 256)
	}
	p.space()
	if p.i < len(data) && data[p.i] == '{' {
		if m, ok := p.object(); ok {
			p.space()
			if p.i == len(data) {
				return m, nil
			}
		}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// A document of internFrom bytes or more (a listing of many objects of
// the same kind) has its object keys made once each: every object of a
// listing of 10,000 devices spells the same hundred keys, and they would
// otherwise be a million strings. At most maxKeys distinct keys are kept.
//
// Such a document also shares its short values: the same string ("en_us",
// "read-only", a model name) or number (the time stamps of the readings
// one report changed) spelt again is the value made the first time, at
// most maxShared of each kind per document, each at most sharedLen bytes.
// Values are never changed once decoded, so sharing them is not seen.
const (
	internFrom = 16 << 10
	maxKeys    = 4096
	maxShared  = 4096
	sharedLen  = 48
)

// parser reads plain JSON; ok false means "leave it to encoding/json".
type parser struct {
	data    []byte
	i       int
	members []member          // of the objects being read, innermost last
	keys    map[string]string // the keys read so far, when interned
	strs    map[string]any    // the short string values read so far, when shared
	nums    map[string]any    // the numbers read so far by their spelling, when shared
}

type member struct {
	key   string
	value any
}

func (p *parser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads an object, data[p.i] being '{'. Its members are gathered
// first, so that the map is made at its size.
func (p *parser) object() (map[string]any, bool) {
	p.i++
	base := len(p.members)
	defer func() { p.members = p.members[:base] }()
	p.space()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return map[string]any{}, true
	}
	for {
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, false
		}
		k, ok := p.key()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, false
		}
		p.i++
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		p.members = append(p.members, member{k, v})
		p.space()
		if p.i >= len(p.data) {
			return nil, false
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			ms := p.members[base:]
			m := make(map[string]any, len(ms))
			for _, x := range ms {
				m[x.key] = x.value
			}
			return m, true
		default:
			return nil, false
		}
	}
}

// array reads an array, data[p.i] being '['.
func (p *parser) array() ([]any, bool) {
	p.i++
	out := []any{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return out, true
	}
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		p.space()
		if p.i >= len(p.data) {
			return nil, false
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}

func (p *parser) value() (any, bool) {
	p.space()
	if p.i >= len(p.data) {
		return nil, false
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		if p.strs != nil {
			return p.sharedStr()
		}
		return p.str()
	case c == 't':
		return true, p.word("true")
	case c == 'f':
		return false, p.word("false")
	case c == 'n':
		return nil, p.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, false
}

func (p *parser) word(w string) bool {
	if len(p.data)-p.i < len(w) || string(p.data[p.i:p.i+len(w)]) != w {
		return false
	}
	p.i += len(w)
	return true
}

// str reads a string in valid UTF-8 without control characters, data[p.i]
// being '"'. Escapes are read by escaped.
func (p *parser) str() (string, bool) {
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.data); j++ {
		switch c := p.data[j]; {
		case c == '"':
			s := p.data[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			p.i = j + 1
			return string(s), true
		case c == '\\':
			return p.escaped(start, j)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// key reads an object's key as str does; a plain ASCII key of a document
// whose keys are interned is looked up first.
func (p *parser) key() (string, bool) {
	if p.keys == nil {
		return p.str()
	}
	end, ok := p.plain(len(p.data))
	if !ok {
		return p.str()
	}
	raw := p.data[p.i+1 : end]
	p.i = end + 1
	return shared(p.keys, raw, maxKeys, func(s string) string { return s }), true
}

// sharedStr reads a string value as str does; a short plain ASCII one is
// the value made when the document first spelt it.
func (p *parser) sharedStr() (any, bool) {
	end, ok := p.plain(sharedLen)
	if !ok {
		return p.str()
	}
	raw := p.data[p.i+1 : end]
	p.i = end + 1
	return shared(p.strs, raw, maxShared, func(s string) any { return s }), true
}

// shared is table's value for the text raw, or the value made of it, kept
// in table while it holds fewer than limit.
func shared[V any](table map[string]V, raw []byte, limit int, makeValue func(string) V) V {
	if v, ok := table[string(raw)]; ok {
		return v
	}
	s := string(raw)
	v := makeValue(s)
	if len(table) < limit {
		table[s] = v
	}
	return v
}

// plain finds the closing quote of the string at data[p.i] ('"') when it
// is plain ASCII (no escape, no control character) of at most limit bytes.
func (p *parser) plain(limit int) (end int, ok bool) {
	start := p.i + 1
	for j := start; j < len(p.data) && j-start <= limit; j++ {
		switch c := p.data[j]; {
		case c == '"':
			return j, true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return 0, false
		}
	}
	return 0, false
}

// escaped reads the rest of a string that starts at data[start] and has
// its first escape at data[j]: a Wink push, for one, is an object encoded
// as a JSON string. It takes JSON's escapes, \u of a character outside the
// surrogates included; a surrogate (encoding/json pairs them or replaces
// them) and anything JSON does not allow are left to encoding/json.
func (p *parser) escaped(start, j int) (string, bool) {
	d := p.data
	b := make([]byte, 0, j-start+32)
	b = append(b, d[start:j]...)
	for j < len(d) {
		c := d[j]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				return "", false
			}
			p.i = j + 1
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(d) {
			return "", false
		}
		switch e := d[j+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d[j+2:])
			if !ok || utf16.IsSurrogate(r) {
				return "", false
			}
			b = utf8.AppendRune(b, r)
			j += 4
		default:
			return "", false
		}
		j += 2
	}
	return "", false
}

// hex4 reads the four hexadecimal digits of a \u escape.
func hex4(d []byte) (rune, bool) {
	if len(d) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number in JSON's grammar as a float64.
func (p *parser) number() (any, bool) {
	d, start := p.data, p.i
	j := start
	if j < len(d) && d[j] == '-' {
		j++
	}
	switch {
	case j < len(d) && d[j] == '0':
		j++
	case j < len(d) && d[j] >= '1' && d[j] <= '9':
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
	default:
		return nil, false
	}
	if j < len(d) && d[j] == '.' {
		j++
		if j >= len(d) || d[j] < '0' || d[j] > '9' {
			return nil, false
		}
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
	}
	if j < len(d) && (d[j] == 'e' || d[j] == 'E') {
		j++
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		if j >= len(d) || d[j] < '0' || d[j] > '9' {
			return nil, false
		}
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
	}
	text := d[start:j]
	if p.nums != nil && len(text) <= sharedLen {
		if v, ok := p.nums[string(text)]; ok {
			p.i = j
			return v, true
		}
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return nil, false
	}
	p.i = j
	var v any = f
	if p.nums != nil && len(text) <= sharedLen && len(p.nums) < maxShared {
		p.nums[string(text)] = v
	}
	return v, true
}
