// Package awserr writes errors in the shape AWS SDK clients parse:
// an X-Amzn-ErrorType header and a {"__type","message"} JSON body.
package awserr

import (
	"encoding/json"
	"net/http"
)

// Write sends an AWS-shaped JSON error.
func Write(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// Validation answers 400 ValidationException.
func Validation(w http.ResponseWriter, msg string) {
	Write(w, http.StatusBadRequest, "ValidationException", msg)
}

// NotFound answers 404 ResourceNotFoundException.
func NotFound(w http.ResponseWriter, msg string) {
	Write(w, http.StatusNotFound, "ResourceNotFoundException", msg)
}

// Internal answers 500 InternalServerException without leaking details.
func Internal(w http.ResponseWriter) {
	Write(w, http.StatusInternalServerError, "InternalServerException", "internal error; see the server log")
}

// JSON writes a 200 JSON body.
func JSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
