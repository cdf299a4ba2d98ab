// Package jsonenc appends JSON values to a byte slice exactly as
// encoding/json writes them, without its reflection: the pieces the
// bridge's discovery, state and device list encoders and the Homey
// socket's frames are written with.
package jsonenc

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendObject appends m as a JSON object in encoding/json's order of
// members (keys sorted), each value written by appendValue.
func AppendObject[V any](dst []byte, m map[string]V, appendValue func(dst []byte, v V) []byte) []byte {
	var keysBuf [16]string
	dst = append(dst, '{')
	for i, k := range SortedKeys(keysBuf[:], m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = appendValue(dst, m[k])
	}
	return append(dst, '}')
}

// AppendScalar appends v when it is null, a boolean, a string, an int or
// int64, or a finite float64, as encoding/json writes it, and reports
// whether it did; any other value is left to the caller (encoding/json
// refuses NaN and ±Inf).
func AppendScalar(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case string:
		return AppendString(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return AppendFloat(dst, x), true
		}
	}
	return dst, false
}

// SortedKeys returns the keys of m in the order encoding/json writes them,
// in buf when it has room.
func SortedKeys[V any](buf []string, m map[string]V) []string {
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// AppendFloat appends f as encoding/json writes a float64; f is finite
// (encoding/json refuses NaN and ±Inf).
func AppendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string as encoding/json writes it: with
// <, > and & escaped, invalid UTF-8 as \ufffd, and U+2028 and U+2029
// escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
