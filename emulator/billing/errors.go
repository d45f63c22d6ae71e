package billing

import "fmt"

// ErrorKind classifies engine errors; each surface maps kinds to its own
// wire status and envelope.
type ErrorKind int

// Error kinds.
const (
	// Invalid: the request cannot be applied to the current state.
	Invalid ErrorKind = iota + 1
	// NotFound: a referenced object does not exist.
	NotFound
	// Conflict: the object is busy with another operation.
	Conflict
)

// Code names a rule the engine refused a request by, in neutral terms, so
// that each surface can word it in its provider's way from the values the
// Error carries.
type Code string

// Error is a billing rule violation, with a human-readable message that the
// surfaces pass through, and the parameter it concerns, if any.
type Error struct {
	Kind    ErrorKind
	Param   string
	Message string
	// Resource and ID name the missing object of a NotFound error, so that
	// each surface can word it in its own way.
	Resource, ID string
	// Code, when set, is the rule refused; Value and Want (the value
	// refused and the one it had to match) and Min and Max (bounds: times,
	// amounts or counts) carry what each code documents.
	Code     Code
	Value    string
	Want     string
	Min, Max int64
}

// NotFoundError reports that the resource id, given in param, does not exist.
func NotFoundError(resource, id, param string) *Error {
	return &Error{Kind: NotFound, Resource: resource, ID: id, Param: param,
		Message: "No such " + resource + ": '" + id + "'"}
}

func invalidf(param, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Param: param, Message: fmt.Sprintf(format, args...)}
}

// Error is the error's Message or, without one, a short account of its
// Code (describe).
func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return e.describe()
}

// describe is a short account of an error that has no Message: its code,
// what it concerns and the parameter at fault. Surfaces word each code
// their own way.
func (e *Error) describe() string {
	s := string(e.Code)
	if e.Resource != "" {
		s += " (" + e.Resource + " " + e.ID + ")"
	}
	if e.Param != "" {
		s = e.Param + ": " + s
	}
	return s
}
