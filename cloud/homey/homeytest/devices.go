package homeytest

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// RootZoneID is the id of the root zone "Home" every Homey has.
const RootZoneID = "9919ee1e-ffbc-480b-bc4b-77fb047e9e68"

// URIs of the realtime managers.
const (
	DevicesURI = "homey:manager:devices"
	ZonesURI   = "homey:manager:zones"
)

// DeviceURI is the realtime URI of one device.
func DeviceURI(id string) string { return "homey:device:" + id }

// normalize turns v into plain JSON values (map[string]any, []any,
// float64, string, bool, nil).
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

// deepCopy copies plain JSON values.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// stamp is a lastUpdated value for now in the same form as prev: epoch
// milliseconds when prev is a number, an ISO string otherwise.
func stamp(prev any, now time.Time) any {
	if _, ok := prev.(float64); ok {
		return float64(now.UnixMilli())
	}
	return isoTime(now)
}

// AddDevice adds a device (or replaces one with the same id) and returns
// its id. dev is a V3 device object; missing fields are filled: id (a
// uuid), name, class ("other"), zone (the root zone), driverId, ownerUri,
// capabilities (from capabilitiesObj keys when absent), every
// capabilitiesObj entry from the standard capability definitions (given
// fields win), ui, available/ready and the null fields of the V3 schema.
// lastUpdated values are ISO strings unless a given entry has an epoch-ms
// number; later changes keep each entry's form. A new device is announced
// as device.create on homey:manager:devices, a replaced one as
// device.update.
func (s *Server) AddDevice(dev map[string]any) string {
	d := asMap(normalize(dev))
	if d == nil {
		d = map[string]any{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addDeviceLocked(d)
}

func (s *Server) addDeviceLocked(d map[string]any) string {
	now := time.Now()
	id, _ := d["id"].(string)
	if id == "" {
		id = newUUID()
	}
	d["id"] = id
	class, _ := d["class"].(string)
	if class == "" {
		class = "other"
	}
	defaults := map[string]any{
		"name": "Device", "class": class, "zone": RootZoneID,
		"driverId": "homey:app:com.example.demo:" + class, "ownerUri": "homey:app:com.example.demo",
		"note": nil, "data": map[string]any{"id": id}, "icon": nil, "iconOverride": nil,
		"iconObj": nil, "virtualClass": nil, "settings": map[string]any{}, "settingsObj": false,
		"flags": []any{}, "energy": nil, "energyObj": nil, "uiIndicator": nil,
		"available": true, "unavailableMessage": nil, "warningMessage": nil, "ready": true,
		"repair": false, "unpair": false, "images": []any{}, "color": nil, "lastSeenAt": isoTime(now),
	}
	for k, v := range defaults {
		if _, ok := d[k]; !ok {
			d[k] = v
		}
	}

	given := asMap(d["capabilitiesObj"])
	var caps []string
	if list, ok := d["capabilities"].([]any); ok {
		for _, c := range list {
			if c, ok := c.(string); ok && c != "" {
				caps = append(caps, c)
			}
		}
	} else {
		for c := range given {
			caps = append(caps, c)
		}
		sort.Strings(caps)
	}
	msTimes := false
	for _, e := range given {
		if _, ok := asMap(e)["lastUpdated"].(float64); ok {
			msTimes = true
		}
	}
	capList := make([]any, len(caps))
	capsObj := map[string]any{}
	for i, c := range caps {
		capList[i] = c
		o := asMap(normalize(capObj(c)))
		for k, v := range asMap(given[c]) {
			o[k] = v
		}
		o["id"] = c
		if _, ok := o["lastUpdated"]; !ok {
			if msTimes {
				o["lastUpdated"] = float64(now.UnixMilli())
			} else {
				o["lastUpdated"] = isoTime(now)
			}
		}
		capsObj[c] = o
	}
	d["capabilities"] = capList
	d["capabilitiesObj"] = capsObj
	if _, ok := d["ui"]; !ok {
		d["ui"] = uiFor(caps, capsObj)
	}

	_, existed := s.devices[id]
	if !existed {
		s.devOrder = append(s.devOrder, id)
	}
	s.devices[id] = d
	event := "device.create"
	if existed {
		event = "device.update"
	}
	s.hub.emit(DevicesURI, event, d)
	return id
}

// uiFor builds the ui object the Homey app uses to draw a device.
func uiFor(caps []string, obj map[string]any) map[string]any {
	ui := map[string]any{"componentsStartAt": 0}
	var comps []any
	var sensors []any
	for _, c := range caps {
		o := asMap(obj[c])
		switch {
		case c == "onoff":
			ui["quickAction"] = "onoff"
			comps = append(comps, map[string]any{"id": "toggle", "capabilities": []any{c}})
		case o["setable"] == true && o["type"] == "number":
			comps = append(comps, map[string]any{"id": "slider", "capabilities": []any{c}})
		case o["setable"] == true && o["type"] == "enum":
			comps = append(comps, map[string]any{"id": "picker", "capabilities": []any{c}})
		default:
			sensors = append(sensors, c)
		}
	}
	if len(sensors) > 0 {
		comps = append(comps, map[string]any{"id": "sensor", "capabilities": sensors})
	}
	if comps == nil {
		comps = []any{}
	}
	ui["components"] = comps
	return ui
}

// RemoveDevice removes a device and announces device.delete on
// homey:manager:devices. It reports whether the device existed.
func (s *Server) RemoveDevice(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return false
	}
	delete(s.devices, id)
	for i, x := range s.devOrder {
		if x == id {
			s.devOrder = append(s.devOrder[:i:i], s.devOrder[i+1:]...)
			break
		}
	}
	s.hub.emit(DevicesURI, "device.delete", d)
	return true
}

// Device returns a deep copy of the device object.
func (s *Server) Device(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, false
	}
	return asMap(deepCopy(d)), true
}

// DeviceIDs returns the ids of all devices in the order they were added.
func (s *Server) DeviceIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.devOrder...)
}

// SetCapability changes a value as the Homey app or the physical device
// would: the value must have the capability's type (and be one of its enum
// values) but read-only capabilities and out-of-range numbers are
// accepted. The value and lastUpdated change and the "capability" event is
// sent on homey:device:<id> with a fresh transactionId.
func (s *Server) SetCapability(id, capability string, value any) error {
	value = normalize(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return fmt.Errorf("homeytest: set capability: no device %q", id)
	}
	o := asMap(asMap(d["capabilitiesObj"])[capability])
	if o == nil {
		return fmt.Errorf("homeytest: set capability: device %q has no capability %q", id, capability)
	}
	if msg := checkValue(capability, o, value, false); msg != "" {
		return fmt.Errorf("homeytest: set capability: %s", msg)
	}
	s.applyLocked(id, capability, value, "")
	return nil
}

// applyLocked stores a value and sends the capability event; an empty
// txID gets a fresh one.
func (s *Server) applyLocked(id, capability string, value any, txID string) {
	d := s.devices[id]
	o := asMap(asMap(d["capabilitiesObj"])[capability])
	now := time.Now()
	o["value"] = value
	o["lastUpdated"] = stamp(o["lastUpdated"], now)
	if txID == "" {
		txID = newUUID()
	}
	s.hub.emit(DeviceURI(id), "capability", map[string]any{
		"capabilityId":    capability,
		"value":           value,
		"transactionId":   txID,
		"transactionTime": now.UnixMilli(),
	})
}

// checkValue validates a value against a capabilitiesObj entry; the
// message names the problem, empty means valid.
func checkValue(capability string, o map[string]any, value any, fromAPI bool) string {
	if fromAPI && o["setable"] != true {
		return fmt.Sprintf("capability %s is not setable", capability)
	}
	typ, _ := o["type"].(string)
	switch typ {
	case "boolean":
		if _, ok := value.(bool); !ok {
			return fmt.Sprintf("invalid value for capability %s: expected a boolean, got %s", capability, jsonType(value))
		}
	case "number":
		n, ok := value.(float64)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return fmt.Sprintf("invalid value for capability %s: expected a number, got %s", capability, jsonType(value))
		}
		if !fromAPI {
			return ""
		}
		if mn, ok := o["min"].(float64); ok && n < mn {
			return fmt.Sprintf("invalid value for capability %s: %v is below the minimum %v", capability, n, mn)
		}
		if mx, ok := o["max"].(float64); ok && n > mx {
			return fmt.Sprintf("invalid value for capability %s: %v is above the maximum %v", capability, n, mx)
		}
	case "enum":
		v, ok := value.(string)
		if !ok {
			return fmt.Sprintf("invalid value for capability %s: expected one of its enum values, got %s", capability, jsonType(value))
		}
		var ids []string
		for _, e := range asMap0(o["values"]) {
			if id, _ := e["id"].(string); id != "" {
				if id == v {
					return ""
				}
				ids = append(ids, id)
			}
		}
		return fmt.Sprintf("invalid value for capability %s: %q is not one of %v", capability, v, ids)
	case "string":
		if _, ok := value.(string); !ok {
			return fmt.Sprintf("invalid value for capability %s: expected a string, got %s", capability, jsonType(value))
		}
	}
	return ""
}

// asMap0 reads a JSON array of objects.
func asMap0(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m := asMap(x); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Rename changes a device's name and announces device.update.
func (s *Server) Rename(id, name string) error {
	return s.updateDevice(id, func(d map[string]any) { d["name"] = name })
}

// SetAvailable marks a device available or unavailable (with
// unavailableMessage) and announces device.update. Capability PUTs to an
// unavailable device fail.
func (s *Server) SetAvailable(id string, available bool) error {
	return s.updateDevice(id, func(d map[string]any) {
		d["available"] = available
		if available {
			d["unavailableMessage"] = nil
		} else {
			d["unavailableMessage"] = "Device is unreachable"
		}
	})
}

// MoveDevice puts a device into a zone and announces device.update.
func (s *Server) MoveDevice(id, zoneID string) error {
	s.mu.Lock()
	_, ok := s.zones[zoneID]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("homeytest: move device: no zone %q", zoneID)
	}
	return s.updateDevice(id, func(d map[string]any) { d["zone"] = zoneID })
}

func (s *Server) updateDevice(id string, change func(map[string]any)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return fmt.Errorf("homeytest: update device: no device %q", id)
	}
	change(d)
	s.hub.emit(DevicesURI, "device.update", d)
	return nil
}

// AddZone adds a zone under parent (the root zone if empty) and returns
// its id; it is announced as zone.create on homey:manager:zones.
func (s *Server) AddZone(name, parent string) string {
	if parent == "" {
		parent = RootZoneID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addZoneLocked(map[string]any{"name": name, "parent": parent})
}

func (s *Server) addZoneLocked(z map[string]any) string {
	id, _ := z["id"].(string)
	if id == "" {
		id = newUUID()
	}
	z["id"] = id
	defaults := map[string]any{"icon": "default", "active": false, "activeOrigins": []any{}, "activeLastUpdated": nil}
	for k, v := range defaults {
		if _, ok := z[k]; !ok {
			z[k] = v
		}
	}
	_, existed := s.zones[id]
	if !existed {
		s.zoneOrder = append(s.zoneOrder, id)
	}
	s.zones[id] = z
	event := "zone.create"
	if existed {
		event = "zone.update"
	}
	s.hub.emit(ZonesURI, event, z)
	return id
}
