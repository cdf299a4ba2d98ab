package winktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The other calls python-wink makes, answered as the API blueprint says:
// hub firmware updates, lock user codes (keys), Nimbus alarms and piggy
// bank deposits.

// readObject reads a JSON object body, answering 400 when it is not one.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	raw, err := readBody(r)
	var body map[string]any
	if err != nil || json.Unmarshal(raw, &body) != nil || body == nil {
		writeError(w, http.StatusBadRequest, "request body must be a JSON object")
		return nil, false
	}
	return body, true
}

// handleUpdateFirmware answers POST /hubs/{id}/update_firmware with the hub,
// now updating its firmware.
func (s *Server) handleUpdateFirmware(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.Update("hub", id, map[string]any{"updating_firmware": true}); err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no hub with id %q", id))
		return
	}
	obj, _ := s.Device("hub", id)
	writeJSON(w, http.StatusOK, envelope(obj, nil))
}

// handleNewKey answers POST /locks/{id}/keys {"code","name"}: a new user
// code of the lock, as a key object.
func (s *Server) handleNewKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.Device("lock", id); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no lock with id %q", id))
		return
	}
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	code, _ := body["code"].(string)
	if len(code) < 4 || len(code) > 8 {
		writeError(w, http.StatusBadRequest, "code must be a string of 4 to 8 digits")
		return
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			writeError(w, http.StatusBadRequest, "code must be a string of 4 to 8 digits")
			return
		}
	}
	name, _ := body["name"].(string)
	key := s.AddDevice(map[string]any{"object_type": "key", "name": name, "parent_object_type": "lock", "parent_object_id": id,
		"last_reading": map[string]any{"activity_detected": false}})
	typ, kid := splitKey(key)
	obj, _ := s.Device(typ, kid)
	writeJSON(w, http.StatusCreated, envelope(obj, nil))
}

// handleNewAlarm answers POST /cloud_clocks/{id}/alarms: the alarm is
// stored on the clock and returned.
func (s *Server) handleNewAlarm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	d, found := s.devices[deviceKey("cloud_clock", id)]
	var alarm map[string]any
	if found {
		s.nextID++
		alarm = map[string]any{"alarm_id": strconv.Itoa(s.nextID), "cloud_clock_id": id, "name": body["name"],
			"recurrence": body["recurrence"], "enabled": body["enabled"] != false, "next_at": body["next_at"]}
		alarms, _ := d.obj["alarms"].([]any)
		d.obj["alarms"] = append(alarms, alarm)
		d.changedLocked()
		s.pushDeviceLocked(deviceKey("cloud_clock", id), d)
	}
	s.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no cloud_clock with id %q", id))
		return
	}
	writeJSON(w, http.StatusCreated, envelope(alarm, nil))
}

// handleDeposit answers POST /piggy_banks/{id}/deposits {"amount": cents}
// (negative for a withdrawal): the balance moves and the deposit is
// returned.
func (s *Server) handleDeposit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	amount, isNum := body["amount"].(float64)
	if !isNum || amount != float64(int64(amount)) {
		writeError(w, http.StatusBadRequest, "amount must be a whole number of cents")
		return
	}
	d, found := s.Device("piggy_bank", id)
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no piggy_bank with id %q", id))
		return
	}
	balance, _ := reading(d)["balance"].(float64)
	_ = s.Update("piggy_bank", id, map[string]any{"balance": balance + amount})
	writeJSON(w, http.StatusCreated, envelope(map[string]any{"deposit_id": randomHex(6), "amount": amount,
		"created_at": stamp(time.Now())}, nil))
}

// splitKey splits "<object_type>-<object_id>".
func splitKey(key string) (typ, id string) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '-' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}
