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

// Error is a billing rule violation, with a human-readable message that the
// surfaces pass through, and the parameter it concerns, if any.
type Error struct {
	Kind    ErrorKind
	Param   string
	Message string
	// Resource and ID name the missing object of a NotFound error, so that
	// each surface can word it in its own way.
	Resource, ID string
	// Code, when set, names the broken rule in neutral terms (one of the
	// Code* constants), for surfaces whose errors carry a code.
	Code string
}

// NotFoundError reports that the resource id, given in param, does not exist.
func NotFoundError(resource, id, param string) *Error {
	return &Error{Kind: NotFound, Resource: resource, ID: id, Param: param,
		Message: "No such " + resource + ": '" + id + "'"}
}

func invalidf(param, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Param: param, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Message }
