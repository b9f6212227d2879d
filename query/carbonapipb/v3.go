package carbonapipb

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// FilteringFunction is carbonapi_v3_pb.FilteringFunction.
type FilteringFunction struct {
	Name      string
	Arguments []string
}

// FetchRequest is one entry of carbonapi_v3_pb.MultiFetchRequest.
type FetchRequest struct {
	Name                    string
	StartTime, StopTime     int64
	HighPrecisionTimestamps bool
	PathExpression          string
	FilterFunctions         []FilteringFunction
	MaxDataPoints           int64
}

// FetchResponseV3 is carbonapi_v3_pb.FetchResponse (NaN = absent).
type FetchResponseV3 struct {
	Name, PathExpression, ConsolidationFunc string
	StartTime, StopTime, StepTime           int64
	XFilesFactor                            float32
	HighPrecisionTimestamps                 bool
	Values                                  []float64
	AppliedFunctions                        []string
	RequestStartTime, RequestStopTime       int64
}

// MultiGlobRequest is carbonapi_v3_pb.MultiGlobRequest.
type MultiGlobRequest struct {
	Metrics                 []string
	StartTime, StopTime     int64
	HighPrecisionTimestamps bool
}

// CapabilityResponse is carbonapi_v3_pb.CapabilityResponse.
type CapabilityResponse struct {
	SupportedProtocols        []string
	Name                      string
	HighPrecisionTimestamps   bool
	SupportFilteringFunctions bool
	LikeSplittedRequests      bool
	SupportStreaming          bool
}

// AppendMultiFetchRequest appends a v3 MultiFetchRequest message.
func AppendMultiFetchRequest(b []byte, reqs []FetchRequest) []byte {
	for i := range reqs {
		r := &reqs[i]
		var st int
		b, st = beginMsg(b, 1)
		b = appendString(b, 1, r.Name)
		b = appendVarint(b, 2, uint64(r.StartTime))
		b = appendVarint(b, 3, uint64(r.StopTime))
		b = appendBool(b, 4, r.HighPrecisionTimestamps)
		b = appendString(b, 5, r.PathExpression)
		for _, ff := range r.FilterFunctions {
			var fst int
			b, fst = beginMsg(b, 6)
			b = appendString(b, 1, ff.Name)
			b = appendStrings(b, 2, ff.Arguments)
			b = endMsg(b, fst)
		}
		b = appendVarint(b, 7, uint64(r.MaxDataPoints))
		b = endMsg(b, st)
	}
	return b
}

func decodeFilteringFunction(b []byte) (FilteringFunction, error) {
	var ff FilteringFunction
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			ff.Name, err = str(f)
		case 2:
			ff.Arguments, err = strs(ff.Arguments, f)
		}
		return err
	})
	return ff, err
}

func decodeFetchRequest(b []byte) (FetchRequest, error) {
	var r FetchRequest
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			r.Name, err = str(f)
		case 2:
			r.StartTime, err = int64Field(f)
		case 3:
			r.StopTime, err = int64Field(f)
		case 4:
			r.HighPrecisionTimestamps, err = boolField(f)
		case 5:
			r.PathExpression, err = str(f)
		case 6:
			r.FilterFunctions, err = message(r.FilterFunctions, f, decodeFilteringFunction)
		case 7:
			r.MaxDataPoints, err = int64Field(f)
		}
		return err
	})
	return r, err
}

// DecodeMultiFetchRequest decodes a v3 MultiFetchRequest message.
func DecodeMultiFetchRequest(b []byte) ([]FetchRequest, error) {
	return decodeRepeated(b, "decoding multi fetch request", func(buf []byte, i int) (FetchRequest, error) {
		r, err := decodeFetchRequest(buf)
		if err != nil {
			return r, fmt.Errorf("decoding fetch request %d: %w", i, err)
		}
		return r, nil
	})
}

// AppendMultiGlobRequest appends a v3 MultiGlobRequest message.
func AppendMultiGlobRequest(b []byte, r *MultiGlobRequest) []byte {
	b = appendStrings(b, 1, r.Metrics)
	b = appendVarint(b, 2, uint64(r.StartTime))
	b = appendVarint(b, 3, uint64(r.StopTime))
	return appendBool(b, 4, r.HighPrecisionTimestamps)
}

// DecodeMultiGlobRequest decodes a v3 MultiGlobRequest message.
func DecodeMultiGlobRequest(b []byte) (*MultiGlobRequest, error) {
	r := &MultiGlobRequest{}
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			r.Metrics, err = strs(r.Metrics, f)
		case 2:
			r.StartTime, err = int64Field(f)
		case 3:
			r.StopTime, err = int64Field(f)
		case 4:
			r.HighPrecisionTimestamps, err = boolField(f)
		}
		return err
	})
	if err == ErrTooMany {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("decoding multi glob request: %w", err)
	}
	return r, nil
}

// AppendMultiGlobResponse appends a v3 MultiGlobResponse message.
func AppendMultiGlobResponse(b []byte, gs []GlobResponse) []byte {
	for i := range gs {
		var st int
		b, st = beginMsg(b, 1)
		b = appendGlobResponseBody(b, &gs[i])
		b = endMsg(b, st)
	}
	return b
}

// DecodeMultiGlobResponse decodes a v3 MultiGlobResponse message.
func DecodeMultiGlobResponse(b []byte) ([]GlobResponse, error) {
	return decodeRepeated(b, "", func(buf []byte, _ int) (GlobResponse, error) {
		g, err := DecodeGlobResponse(buf)
		if err != nil {
			return GlobResponse{}, err
		}
		return *g, nil
	})
}

// AppendMultiFetchV3 appends a v3 MultiFetchResponse message.
func AppendMultiFetchV3(b []byte, metrics []FetchResponseV3) []byte {
	for i := range metrics {
		m := &metrics[i]
		var st int
		b, st = beginMsg(b, 1)
		b = appendString(b, 1, m.Name)
		b = appendString(b, 2, m.PathExpression)
		b = appendString(b, 3, m.ConsolidationFunc)
		b = appendVarint(b, 4, uint64(m.StartTime))
		b = appendVarint(b, 5, uint64(m.StopTime))
		b = appendVarint(b, 6, uint64(m.StepTime))
		b = appendFloat32(b, 7, m.XFilesFactor)
		b = appendBool(b, 8, m.HighPrecisionTimestamps)
		b = appendPackedDoubles(b, 9, m.Values)
		b = appendStrings(b, 10, m.AppliedFunctions)
		b = appendVarint(b, 11, uint64(m.RequestStartTime))
		b = appendVarint(b, 12, uint64(m.RequestStopTime))
		b = endMsg(b, st)
	}
	return b
}

// DecodeMultiFetchV3 decodes a v3 MultiFetchResponse message.
func DecodeMultiFetchV3(b []byte) ([]FetchResponseV3, error) {
	return decodeRepeated(b, "", decodeFetchV3)
}

// decodeFetchV3 decodes one v3 FetchResponse message.
func decodeFetchV3(buf []byte, _ int) (FetchResponseV3, error) {
	var m FetchResponseV3
	err := eachField(buf, func(g field) (err error) {
		switch g.num {
		case 1:
			m.Name, err = str(g)
		case 2:
			m.PathExpression, err = str(g)
		case 3:
			m.ConsolidationFunc, err = str(g)
		case 4:
			m.StartTime, err = int64Field(g)
		case 5:
			m.StopTime, err = int64Field(g)
		case 6:
			m.StepTime, err = int64Field(g)
		case 7:
			if err = wrong(g, protowire.Fixed32Type); err == nil {
				m.XFilesFactor = math.Float32frombits(uint32(g.u))
			}
		case 8:
			m.HighPrecisionTimestamps, err = boolField(g)
		case 9:
			m.Values, err = doubles(m.Values, g)
		case 10:
			m.AppliedFunctions, err = strs(m.AppliedFunctions, g)
		case 11:
			m.RequestStartTime, err = int64Field(g)
		case 12:
			m.RequestStopTime, err = int64Field(g)
		}
		return err
	})
	if err != nil {
		return m, fmt.Errorf("decoding fetch response: %w", err)
	}
	return m, nil
}

// AppendCapabilityResponse appends a v3 CapabilityResponse message.
func AppendCapabilityResponse(b []byte, c *CapabilityResponse) []byte {
	b = appendStrings(b, 1, c.SupportedProtocols)
	b = appendString(b, 2, c.Name)
	b = appendBool(b, 3, c.HighPrecisionTimestamps)
	b = appendBool(b, 4, c.SupportFilteringFunctions)
	b = appendBool(b, 5, c.LikeSplittedRequests)
	return appendBool(b, 6, c.SupportStreaming)
}

// DecodeCapabilityResponse decodes a v3 CapabilityResponse message.
func DecodeCapabilityResponse(b []byte) (*CapabilityResponse, error) {
	c := &CapabilityResponse{}
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			c.SupportedProtocols, err = strs(c.SupportedProtocols, f)
		case 2:
			c.Name, err = str(f)
		case 3:
			c.HighPrecisionTimestamps, err = boolField(f)
		case 4:
			c.SupportFilteringFunctions, err = boolField(f)
		case 5:
			c.LikeSplittedRequests, err = boolField(f)
		case 6:
			c.SupportStreaming, err = boolField(f)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
