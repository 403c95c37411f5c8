package model

// TraceSummary is the X-Ray API's TraceSummary (PROTOCOLS.md §4), computed
// from an assembled Trace. JSON names are the AWS ones so the API layer can
// encode it as is; times are epoch seconds as float numbers, which is what
// the AWS restJson1 protocol puts on the wire.
type TraceSummary struct {
	ID string `json:"Id"`
	// StartTime is the earliest start of any segment of the trace.
	StartTime float64 `json:"StartTime"`
	// Duration runs from the earliest start to the latest end in the trace.
	Duration float64 `json:"Duration"`
	// ResponseTime is the root segment's own duration.
	ResponseTime float64    `json:"ResponseTime"`
	HasFault     bool       `json:"HasFault"`
	HasError     bool       `json:"HasError"`
	HasThrottle  bool       `json:"HasThrottle"`
	IsPartial    bool       `json:"IsPartial"`
	HTTP         *TraceHTTP `json:"Http,omitempty"`
	// Annotations maps a key to every distinct value seen for it, each with
	// the services that recorded it.
	Annotations       map[string][]ValueWithServiceIDs `json:"Annotations,omitempty"`
	Users             []TraceUser                      `json:"Users,omitempty"`
	ServiceIDs        []ServiceID                      `json:"ServiceIds,omitempty"`
	ResourceARNs      []ResourceARNDetail              `json:"ResourceARNs,omitempty"`
	InstanceIDs       []InstanceIDDetail               `json:"InstanceIds,omitempty"`
	AvailabilityZones []AvailabilityZoneDetail         `json:"AvailabilityZones,omitempty"`
	EntryPoint        *ServiceID                       `json:"EntryPoint,omitempty"`
	FaultRootCauses   []RootCause                      `json:"FaultRootCauses,omitempty"`
	ErrorRootCauses   []RootCause                      `json:"ErrorRootCauses,omitempty"`
	// ResponseTimeRootCauses use RootCauseEntity.Coverage instead of
	// exceptions.
	ResponseTimeRootCauses []RootCause `json:"ResponseTimeRootCauses,omitempty"`
	// Revision counts the segment documents the trace was assembled from;
	// it grows when a trace receives more documents.
	Revision int `json:"Revision"`
	// MatchedEventTime is when the event matched by the query happened;
	// the summary sets it to StartTime and a query may override it.
	MatchedEventTime float64 `json:"MatchedEventTime,omitempty"`
}

// TraceHTTP is the http block of the trace's root segment.
type TraceHTTP struct {
	HTTPURL    string `json:"HttpURL,omitempty"`
	HTTPStatus int    `json:"HttpStatus,omitempty"`
	HTTPMethod string `json:"HttpMethod,omitempty"`
	UserAgent  string `json:"UserAgent,omitempty"`
	ClientIP   string `json:"ClientIp,omitempty"`
}

// ServiceID identifies a service node: X-Ray tells services apart by name
// and type (and account).
type ServiceID struct {
	Name      string   `json:"Name,omitempty"`
	Names     []string `json:"Names,omitempty"`
	AccountID string   `json:"AccountId,omitempty"`
	Type      string   `json:"Type,omitempty"`
}

// AnnotationValue holds exactly one of its fields, like the AWS union.
type AnnotationValue struct {
	NumberValue  *float64 `json:"NumberValue,omitempty"`
	BooleanValue *bool    `json:"BooleanValue,omitempty"`
	StringValue  *string  `json:"StringValue,omitempty"`
}

// ValueWithServiceIDs is one annotation value and the services that set it.
type ValueWithServiceIDs struct {
	AnnotationValue AnnotationValue `json:"AnnotationValue"`
	ServiceIDs      []ServiceID     `json:"ServiceIds,omitempty"`
}

// TraceUser is a user name found on the trace's segments.
type TraceUser struct {
	UserName   string      `json:"UserName"`
	ServiceIDs []ServiceID `json:"ServiceIds,omitempty"`
}

// ResourceARNDetail is one resource ARN found on the trace's segments.
type ResourceARNDetail struct {
	ARN string `json:"ARN"`
}

// InstanceIDDetail is one EC2 instance id found on the trace's segments.
type InstanceIDDetail struct {
	ID string `json:"Id"`
}

// AvailabilityZoneDetail is one availability zone found on the trace.
type AvailabilityZoneDetail struct {
	Name string `json:"Name"`
}

// RootCause is one root cause of a fault, an error or slowness: the chain
// of services from the entry point down to the service that caused it (the
// last one).
type RootCause struct {
	Services        []RootCauseService `json:"Services"`
	ClientImpacting bool               `json:"ClientImpacting"`
}

// RootCauseService is one service on a root-cause chain, with the path of
// entities (segment, then nested subsegments) inside it.
type RootCauseService struct {
	Name       string            `json:"Name"`
	Names      []string          `json:"Names,omitempty"`
	Type       string            `json:"Type,omitempty"`
	AccountID  string            `json:"AccountId,omitempty"`
	EntityPath []RootCauseEntity `json:"EntityPath"`
	Inferred   bool              `json:"Inferred"`
}

// RootCauseEntity is one segment or subsegment on a root-cause path.
// Exceptions are set for fault and error root causes, Coverage for
// response-time root causes.
type RootCauseEntity struct {
	Name       string               `json:"Name"`
	Exceptions []RootCauseException `json:"Exceptions,omitempty"`
	// Coverage is the entity's duration over the root segment's response
	// time (0..1).
	Coverage *float64 `json:"Coverage,omitempty"`
	Remote   bool     `json:"Remote"`
}

// RootCauseException is an exception recorded on a root-cause entity.
type RootCauseException struct {
	Name    string `json:"Name,omitempty"`
	Message string `json:"Message,omitempty"`
}
