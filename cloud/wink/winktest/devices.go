package winktest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// device is one stored Wink object and its push channel.
type device struct {
	obj map[string]any
	// seq holds, per requested field ("powered", "outlets/1/powered"), the
	// number of the latest PUT that asked for it; an older pending change
	// is not applied over a newer one.
	seq map[string]uint64
	// enc is obj encoded as JSON, kept until obj changes (changedLocked),
	// so that a listing of thousands of devices encodes only those that
	// changed since the last one. Not kept for groups, whose aggregation
	// follows their members.
	enc []byte
}

// changedLocked drops the kept encoding: call it whenever d.obj changes
// (s.mu held).
func (d *device) changedLocked() { d.enc = nil }

// encodedLocked returns d.obj as JSON (s.mu held), encoding it when it
// changed since the last call.
func (s *Server) encodedLocked(d *device) ([]byte, error) {
	if d.enc != nil {
		return d.enc, nil
	}
	if str(d.obj["object_type"]) == "group" {
		s.aggregateLocked(d.obj)
		return json.Marshal(d.obj)
	}
	b, err := json.Marshal(d.obj)
	if err != nil {
		return nil, err
	}
	d.enc = b
	return b, nil
}

func deviceKey(objectType, objectID string) string { return objectType + "-" + objectID }

// plural is the REST collection name of an object type.
func plural(objectType string) string {
	if objectType == "binary_switch" {
		return "binary_switches"
	}
	return objectType + "s"
}

// singular maps a REST collection name back to its object type.
func singular(p string) (string, bool) {
	if p == "binary_switches" {
		return "binary_switch", true
	}
	if p == "users" || p == "oauth2" {
		return "", false
	}
	t, ok := strings.CutSuffix(p, "s")
	return t, ok && t != "" && plural(t) == p
}

// stamp is a Wink timestamp: float seconds since the epoch.
func stamp(t time.Time) float64 {
	return float64(t.UnixNano()/1000) / 1e6
}

// normalize turns any Go value into the shape encoding/json decodes to
// (map[string]any, []any, float64, string, bool, nil).
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = deepCopy(x)
		}
		return a
	default:
		return v
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// subMap returns obj[key] as a map, creating it when missing.
func subMap(obj map[string]any, key string) map[string]any {
	m, ok := obj[key].(map[string]any)
	if !ok {
		m = map[string]any{}
		obj[key] = m
	}
	return m
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// isStampKey reports whether a last_reading key is itself a timestamp or
// a desired_ bookkeeping key rather than a reading.
func isStampKey(k string) bool {
	return strings.HasSuffix(k, "_updated_at") || strings.HasSuffix(k, "_changed_at") || strings.HasPrefix(k, "desired_")
}

// fillReadingStamps adds x_updated_at / x_changed_at for readings that lack
// them.
func fillReadingStamps(lr map[string]any, now float64) {
	for k := range lr {
		if isStampKey(k) {
			continue
		}
		if _, ok := lr[k+"_updated_at"]; !ok {
			lr[k+"_updated_at"] = now
		}
		if _, ok := lr[k+"_changed_at"]; !ok {
			lr[k+"_changed_at"] = now
		}
	}
}

// AddDevice adds (or replaces) a raw Wink object. It needs object_type;
// object_id is assigned when missing. It fills what Wink would:
// subscription.pubnub{subscribe_key,channel}, <object_type>_id, uuid,
// created_at, name, locale, units, desired_state, last_reading (with
// connection true unless given) and the *_updated_at/_changed_at stamps,
// and for a powerstrip the outlets' ids. It pushes a device-list change on
// the user channel and returns "<object_type>-<object_id>", or "" when
// object_type is missing or the object cannot be encoded as JSON.
func (s *Server) AddDevice(obj map[string]any) string {
	o := s.prepare(obj)
	if o == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.addLocked(o)
	s.pushListLocked()
	return key
}

// AddDevices adds several devices as AddDevice does, with one device-list
// push for all of them.
func (s *Server) AddDevices(objs []map[string]any) []string {
	prepared := make([]map[string]any, 0, len(objs))
	for _, obj := range objs {
		if o := s.prepare(obj); o != nil {
			prepared = append(prepared, o)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(prepared))
	for _, o := range prepared {
		keys = append(keys, s.addLocked(o))
	}
	s.pushListLocked()
	return keys
}

// prepare normalizes an object for adding, or returns nil (logged) when it
// cannot be added.
func (s *Server) prepare(obj map[string]any) map[string]any {
	n, err := normalize(obj)
	if err != nil {
		s.log.Warn("winktest: add device: object is not JSON-encodable", "err", err)
		return nil
	}
	o := asMap(n)
	if str(o["object_type"]) == "" {
		s.log.Warn("winktest: add device: object_type is missing")
		return nil
	}
	return o
}

// addLocked stores a prepared object and returns its key.
func (s *Server) addLocked(o map[string]any) string {
	objType := str(o["object_type"])
	id := str(o["object_id"])
	if id == "" {
		s.nextID++
		id = strconv.Itoa(s.nextID)
	}
	now := time.Now()
	ts := stamp(now)
	key := deviceKey(objType, id)

	o["object_id"] = id
	o[objType+"_id"] = id
	defaults := map[string]any{
		"uuid":                      newUUID(),
		"name":                      strings.ReplaceAll(objType, "_", " ") + " " + id,
		"locale":                    "en_us",
		"units":                     map[string]any{},
		"created_at":                float64(now.Unix()),
		"hidden_at":                 nil,
		"icon_id":                   nil,
		"icon_code":                 nil,
		"capabilities":              map[string]any{},
		"triggers":                  []any{},
		"manufacturer_device_model": nil,
		"manufacturer_device_id":    nil,
		"device_manufacturer":       nil,
		"model_name":                nil,
		"upc_id":                    nil,
		"upc_code":                  nil,
		"linked_service_id":         nil,
		"lat_lng":                   []any{nil, nil},
		"location":                  "",
		"desired_state":             map[string]any{},
	}
	for k, v := range defaults {
		if _, ok := o[k]; !ok {
			o[k] = v
		}
	}
	lr := subMap(o, "last_reading")
	if _, ok := lr["connection"]; !ok {
		lr["connection"] = true
	}
	fillReadingStamps(lr, ts)
	subMap(o, "desired_state")

	if outlets, ok := o["outlets"].([]any); ok {
		for i, x := range outlets {
			out := asMap(x)
			if out == nil {
				continue
			}
			oid := str(out["outlet_id"])
			if oid == "" {
				s.nextID++
				oid = strconv.Itoa(s.nextID)
			}
			out["outlet_id"], out["object_id"], out["object_type"] = oid, oid, "outlet"
			out["outlet_index"] = float64(i)
			out["parent_object_type"], out["parent_object_id"] = objType, id
			if _, ok := out["uuid"]; !ok {
				out["uuid"] = newUUID()
			}
			if _, ok := out["name"]; !ok {
				out["name"] = fmt.Sprintf("Outlet #%d", i+1)
			}
			subMap(out, "desired_state")
			olr := subMap(out, "last_reading")
			if _, ok := olr["powered"]; !ok {
				olr["powered"] = false
			}
			out["powered"] = olr["powered"]
			fillReadingStamps(olr, ts)
		}
	}

	channel := randomHex(20) + "|" + key + "|user-" + s.UserID
	if old, ok := s.devices[key]; ok {
		channel = str(asMap(asMap(old.obj["subscription"])["pubnub"])["channel"])
	} else {
		s.order = append(s.order, key)
	}
	o["subscription"] = s.subscriptionFor(channel)
	s.devices[key] = &device{obj: o, seq: map[string]uint64{}}
	return key
}

// RemoveDevice removes a device and pushes a device-list change. It
// reports whether the device existed.
func (s *Server) RemoveDevice(objectType, objectID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := deviceKey(objectType, objectID)
	if _, ok := s.devices[key]; !ok {
		return false
	}
	delete(s.devices, key)
	for i, k := range s.order {
		if k == key {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
	s.pushListLocked()
	return true
}

// Device returns a deep copy of the object as REST returns it (values as
// encoding/json decodes them: numbers are float64).
func (s *Server) Device(objectType, objectID string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[deviceKey(objectType, objectID)]
	if !ok {
		return nil, false
	}
	if objectType == "group" {
		s.aggregateLocked(d.obj)
	}
	return deepCopy(d.obj).(map[string]any), true
}

// DeviceKeys lists the devices as "<object_type>-<object_id>", in the
// order they were added.
func (s *Server) DeviceKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

func (s *Server) deviceList() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deviceListLocked()
}

func (s *Server) deviceListLocked() []any {
	return s.listLocked(func(objectType string) bool { return !ownList[objectType] })
}

// ownList are the object types listed by their own /users/me/{plural}
// rather than by /users/me/wink_devices.
var ownList = map[string]bool{"robot": true, "group": true, "scene": true}

// listLocked copies the objects whose type keep accepts, in order.
func (s *Server) listLocked(keep func(objectType string) bool) []any {
	out := make([]any, 0, len(s.order))
	for _, k := range s.order {
		obj := s.devices[k].obj
		if keep(str(obj["object_type"])) {
			if str(obj["object_type"]) == "group" {
				s.aggregateLocked(obj)
			}
			out = append(out, deepCopy(obj))
		}
	}
	return out
}

// listJSONLocked is listLocked encoded: the JSON array of the objects
// whose type keep accepts, in order, and how many there are.
func (s *Server) listJSONLocked(keep func(objectType string) bool) ([]byte, int, error) {
	// The objects first, so that the listing is written at its size (a
	// listing of 10,000 devices is 17 MB).
	encs := make([][]byte, 0, len(s.order))
	size := 2
	for _, k := range s.order {
		d := s.devices[k]
		if !keep(str(d.obj["object_type"])) {
			continue
		}
		enc, err := s.encodedLocked(d)
		if err != nil {
			return nil, 0, fmt.Errorf("winktest: encode %s: %w", k, err)
		}
		encs = append(encs, enc)
		size += len(enc) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, '[')
	for i, enc := range encs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, enc...)
	}
	b = append(b, ']')
	return b, len(encs), nil
}

// Update changes a device as the Wink app or the physical device would:
// reading is merged into last_reading (with x_updated_at, and
// x_changed_at when the value changed) and the full object is pushed.
// When connection turns true, changes still waiting in desired_state are
// applied after Options.ApplyDelay.
func (s *Server) Update(objectType, objectID string, reading map[string]any) error {
	n, err := normalize(reading)
	if err != nil {
		return fmt.Errorf("winktest: update %s-%s: reading is not JSON-encodable: %w", objectType, objectID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := deviceKey(objectType, objectID)
	d, ok := s.devices[key]
	if !ok {
		return fmt.Errorf("winktest: update %s: no such device", key)
	}
	d.changedLocked()
	lr := subMap(d.obj, "last_reading")
	wasConnected := lr["connection"] == true
	ts := stamp(time.Now())
	for k, v := range asMap(n) {
		if isStampKey(k) {
			lr[k] = v
			continue
		}
		old, had := lr[k]
		lr[k] = v
		lr[k+"_updated_at"] = ts
		if !had || !reflect.DeepEqual(old, v) {
			lr[k+"_changed_at"] = ts
		}
	}
	if !wasConnected && lr["connection"] == true {
		s.resumePendingLocked(key, d)
	}
	s.pushDeviceLocked(key, d)
	return nil
}

// Rename changes a device's name and pushes it.
func (s *Server) Rename(objectType, objectID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := deviceKey(objectType, objectID)
	d, ok := s.devices[key]
	if !ok {
		return fmt.Errorf("winktest: rename %s: no such device", key)
	}
	d.changedLocked()
	d.obj["name"] = name
	s.pushDeviceLocked(key, d)
	return nil
}

// pushDeviceLocked publishes the device on its channel in the current
// push form. s.mu must be held.
func (s *Server) pushDeviceLocked(key string, d *device) {
	channel := str(asMap(asMap(d.obj["subscription"])["pubnub"])["channel"])
	if channel == "" {
		return
	}
	// A push follows every change: what it sends is kept for listings.
	d.changedLocked()
	if s.pushForm == PushString {
		b, err := s.encodedLocked(d)
		if err != nil {
			s.log.Warn("winktest: encode push", "err", err)
			return
		}
		s.publishEncodedLocked(channel, string(b))
	} else {
		url := s.URL + "/" + plural(str(d.obj["object_type"])) + "/" + str(d.obj["object_id"])
		s.publishLocked(channel, d.obj, url)
	}
	s.log.Debug("winktest: pushed device", "device", key)
}

// pushListLocked publishes a device-list change on the user channel.
func (s *Server) pushListLocked() {
	pullURL := s.URL + "/users/me/wink_devices"
	if s.pushForm != PushString {
		s.publishLocked(s.userChannel, map[string]any{"data": s.deviceListLocked()}, pullURL)
		return
	}
	list, _, err := s.listJSONLocked(func(objectType string) bool { return !ownList[objectType] })
	if err != nil {
		s.log.Warn("winktest: encode push", "err", err)
		return
	}
	s.publishEncodedLocked(s.userChannel, `{"data":`+string(list)+`}`)
}

// publishEncodedLocked publishes an object already encoded as JSON in the
// string form (PushString).
func (s *Server) publishEncodedLocked(channel, payload string) {
	if s.swallowedLocked(channel) {
		return
	}
	s.hub.publish(channel, payload, publisherUUID, false)
}

// swallowedLocked tells (and counts) whether the keep-alive quirk
// swallows a push now.
func (s *Server) swallowedLocked(channel string) bool {
	if !s.pushesStoppedLocked() {
		return false
	}
	s.quirkDrops++
	s.log.Debug("winktest: push swallowed: no app-like /users/me call lately", "channel", channel)
	return true
}

func (s *Server) publishLocked(channel string, obj map[string]any, pullURL string) {
	if s.swallowedLocked(channel) {
		return
	}
	var payload any
	switch s.pushForm {
	case PushObject:
		payload = deepCopy(obj)
	case PushPullURL:
		payload = map[string]any{"pull_url": pullURL}
	default:
		b, err := json.Marshal(obj)
		if err != nil {
			s.log.Warn("winktest: encode push", "err", err)
			return
		}
		payload = string(b)
	}
	s.hub.publish(channel, payload, publisherUUID, false)
}

// newUUID returns a random version-4 UUID.
func newUUID() string {
	h := []byte(randomHex(16))
	h[12] = '4'
	h[16] = "89ab"[h[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
