package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// unknownKeys walks the parsed YAML document and reports every key that is
// not part of Config, naming its full path and the closest known key.
func unknownKeys(doc any) []error {
	if doc == nil {
		return nil
	}
	return walk("", doc, reflect.TypeFor[Config]())
}

func walk(path string, node any, t reflect.Type) []error {
	if node == nil {
		return nil
	}
	if t == reflect.TypeFor[Account]() {
		return nil // decodeAccounts checks the keys of each account's cloud
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := node.(map[string]any)
		if !ok {
			return []error{fmt.Errorf("%s: must be a mapping of keys (%s), not %s", display(path), strings.Join(knownKeys(t), ", "), kindOf(node))}
		}
		known := knownKeys(t)
		var errs []error
		for _, k := range sortedKeys(m) {
			lk := strings.ToLower(k)
			f, ok := fieldByKey(t, lk)
			if !ok {
				errs = append(errs, unknownKeyError(join(path, k), lk, known))
				continue
			}
			errs = append(errs, walk(join(path, lk), m[k], f.Type)...)
		}
		return errs
	case reflect.Slice:
		l, ok := node.([]any)
		if !ok {
			return []error{fmt.Errorf("%s: must be a list, not %s", display(path), kindOf(node))}
		}
		var errs []error
		for i, e := range l {
			errs = append(errs, walk(fmt.Sprintf("%s[%d]", path, i), e, t.Elem())...)
		}
		return errs
	default:
		switch node.(type) {
		case map[string]any, []any:
			return []error{fmt.Errorf("%s: must be a single value, not %s", display(path), kindOf(node))}
		}
		return nil
	}
}

// fieldByKey finds the exported field of a struct type that a key names.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && tagName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func unknownKeyError(path, key string, known []string) error {
	if s := closest(key, known); s != "" {
		return fmt.Errorf("%s: unknown key; did you mean %q?", path, s)
	}
	return fmt.Errorf("%s: unknown key; known keys here: %s", path, strings.Join(known, ", "))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func display(path string) string {
	if path == "" {
		return "the configuration file"
	}
	return path
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// closest returns the known key nearest to key by edit distance, or "" if
// none is near enough to be a likely typo.
func closest(key string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := distance(key, k)
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD >= 0 && bestD <= max(2, len(key)/3) {
		return best
	}
	for _, k := range known {
		if len(k) >= 2 && (strings.HasPrefix(key, k) || strings.HasPrefix(k, key)) {
			return k
		}
	}
	return ""
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
