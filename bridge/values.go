package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// commandError is a rejected command: the field it concerns and why.
type commandError struct {
	Field  string
	Reason string
}

func (e *commandError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

func reject(field, format string, args ...any) error {
	return &commandError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// plainValue reads a payload that is not a JSON object: JSON scalars
// (numbers, true/false, quoted strings, null) keep their type, anything else
// is a bare string such as ON or TOGGLE.
func plainValue(payload []byte) any {
	s := strings.TrimSpace(string(payload))
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		if _, isObject := v.(map[string]any); !isObject {
			return v
		}
	}
	return s
}

// describe renders a received value for an error message, shortened.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 40 {
		return string(b[:37]) + "..."
	}
	return string(b)
}

// asBool reads an on/off value: true/false, 1/0 and the words ON/OFF,
// TRUE/FALSE, YES/NO in any case. -0 is no 0 here: it is rejected.
func asBool(field string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64:
		if x == 1 || (x == 0 && !math.Signbit(x)) {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "on", "true", "1", "yes":
			return true, nil
		case "off", "false", "0", "no":
			return false, nil
		}
	}
	return false, reject(field, "expected ON or OFF (or true/false, 1/0), got %s", describe(v))
}

// asNumber reads a number given as a JSON number or a numeric string
// written as JSON writes numbers (no leading zeros, hex, "Inf" or "NaN").
// -0 reads as 0; a subnormal number (closer to 0 than any normal float64)
// is rejected, so no cloud receives a value it may read differently.
func asNumber(field string, v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return normalNumber(field, x)
	case string:
		t := strings.TrimSpace(x)
		if !numberLiteral.MatchString(t) {
			if leadingZero.MatchString(t) {
				return 0, reject(field, "%s has a leading zero: write the number without it", describe(v))
			}
			break
		}
		f, err := strconv.ParseFloat(t, 64)
		if err == nil {
			return normalNumber(field, f)
		}
	}
	return 0, reject(field, "expected a number, got %s", describe(v))
}

// numberLiteral is JSON's number grammar; leadingZero spots the common
// mistake it excludes.
var (
	numberLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
	leadingZero   = regexp.MustCompile(`^-?0[0-9]`)
)

// normalNumber turns -0 into 0 and rejects NaN, infinities and subnormal
// numbers.
func normalNumber(field string, x float64) (float64, error) {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return 0, reject(field, "expected a finite number, got %s", trimFloat(x))
	case x == 0:
		return 0, nil // also for -0
	case math.Abs(x) < smallestNormal:
		return 0, reject(field, "%s is too close to zero to be sent: send 0 or a larger number", trimFloat(x))
	}
	return x, nil
}

// smallestNormal is the smallest positive normal float64.
const smallestNormal = 0x1p-1022

// inRange checks lo <= x <= hi, naming the field and the range.
func inRange(field string, x, lo, hi float64) error {
	if x < lo || x > hi {
		return reject(field, "%s is out of range %s to %s", trimFloat(x), trimFloat(lo), trimFloat(hi))
	}
	return nil
}

// asChoice matches v against choices, ignoring case, and returns the
// choice as the cloud spells it.
func asChoice(field string, v any, choices []string) (string, error) {
	s, ok := v.(string)
	if ok {
		for _, c := range choices {
			if strings.EqualFold(c, strings.TrimSpace(s)) {
				return c, nil
			}
		}
	}
	return "", reject(field, "expected one of %s, got %s", strings.Join(choices, ", "), describe(v))
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// round rounds to the given number of decimals.
func round(f float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(f*p) / p
}

// duplicateKey returns a key that appears twice in one JSON object of
// data, at any depth, as "key" or "parent.key". encoding/json would keep
// the last one silently, while another reader may keep the first.
func duplicateKey(data []byte) (string, bool) {
	if json.Valid(data) && !repeatsKey(data) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dup, found, _ := scanDuplicates(dec, "")
	return dup, found
}

// repeatsKey tells whether valid JSON data may hold one key twice in an
// object: it compares the keys as written, without the allocations of a
// json.Decoder, and answers true for any key with an escape or with
// invalid UTF-8 (either may spell another key differently).
func repeatsKey(data []byte) bool {
	type frame struct {
		object  bool
		keyNext bool
		keys    [][]byte
	}
	var stack []frame
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{':
			stack = append(stack, frame{object: true, keyNext: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if f := &stack[len(stack)-1]; f.object {
				f.keyNext = true
			}
		case '"':
			start := i + 1
			escaped := false
			for i++; data[i] != '"'; i++ {
				if data[i] == '\\' {
					escaped = true
					i++
				}
			}
			if len(stack) == 0 {
				continue
			}
			f := &stack[len(stack)-1]
			if !f.object || !f.keyNext {
				continue
			}
			f.keyNext = false
			key := data[start:i]
			if escaped || !utf8.Valid(key) {
				// Decoding replaces invalid UTF-8 with U+FFFD: two keys
				// that differ as written may be one key.
				return true
			}
			for _, k := range f.keys {
				if bytes.Equal(k, key) {
					return true
				}
			}
			f.keys = append(f.keys, key)
		}
	}
	return false
}

// scanDuplicates reads one JSON value from dec and reports the first
// duplicate key in it. Syntax errors end the scan without a finding (the
// decoder proper reports them).
func scanDuplicates(dec *json.Decoder, path string) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			k, _ := kt.(string)
			name := k
			if path != "" {
				name = path + "." + k
			}
			if seen[k] {
				return name, true, nil
			}
			seen[k] = true
			if dup, found, err := scanDuplicates(dec, name); found || err != nil {
				return dup, found, err
			}
		}
		_, err = dec.Token() // '}'
		return "", false, err
	case json.Delim('['):
		for dec.More() {
			if dup, found, err := scanDuplicates(dec, path); found || err != nil {
				return dup, found, err
			}
		}
		_, err = dec.Token() // ']'
		return "", false, err
	}
	return "", false, nil
}
