package billing

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
}

func (e *Error) Error() string { return e.Message }
