package wink

import (
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// Groups and scenes (the app's shortcuts) come from /users/me/groups and
// /users/me/scenes. A group is commanded as one device through
// POST /groups/{id}/activate; a scene runs through POST /scenes/{id}/activate.

// publishedGroup tells whether a group is shown: not one of Wink's
// built-ins (names starting with "." or "@") and not empty, as python-wink
// decided.
func publishedGroup(m map[string]any) bool {
	name := str(m["name"])
	members, _ := m["members"].([]any)
	return name != "" && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "@") && len(members) > 0
}

// groupReading is a group's reading from its reading_aggregation: any
// member powered, the members' average brightness and position.
func groupReading(m map[string]any) map[string]any {
	agg, _ := m["reading_aggregation"].(map[string]any)
	lr := map[string]any{}
	if p, ok := agg["powered"].(map[string]any); ok {
		if or, ok := p["or"].(bool); ok {
			lr["powered"] = or
		}
	}
	for _, k := range []string{"brightness", "position"} {
		if a, ok := agg[k].(map[string]any); ok {
			if n, ok := cloud.Number(a["average"]); ok {
				lr[k] = n
			}
		}
	}
	return lr
}

// group decodes a group by what its members aggregate: position → a cover
// group, brightness → a light group, else a switch group.
func (b *builder) group() {
	agg, _ := b.obj["reading_aggregation"].(map[string]any)
	b.dev.Available = true // groups are virtual
	switch {
	case agg["position"] != nil:
		b.class(cloud.ClassCover)
		b.dev.CoverKind = cloud.CoverShade
		b.add(spec{key: "position", name: cloud.FieldPosition, kind: cloud.KindNumber, rw: true, conv: convLevel, min: cloud.Range(0), max: cloud.Range(1), always: true})
	case agg["brightness"] != nil:
		b.class(cloud.ClassLight)
		b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
		b.add(spec{key: "brightness", name: cloud.FieldBrightness, kind: cloud.KindNumber, rw: true, conv: convLevel, min: cloud.Range(0), max: cloud.Range(1), always: true})
	default:
		b.class(cloud.ClassSwitch)
		b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
	}
}

// scene decodes a shortcut: a write-only activate field.
func (b *builder) scene() {
	b.class(cloud.ClassScene)
	b.dev.Available = true
	b.dev.Fields = append(b.dev.Fields, cloud.Field{Name: cloud.FieldActivate, Kind: cloud.KindBool, Writable: true})
	b.wire[cloud.FieldActivate] = wireField{key: "activate"}
}
