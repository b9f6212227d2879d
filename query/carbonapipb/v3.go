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
			for _, a := range ff.Arguments {
				b = protowire.AppendTag(b, 2, protowire.BytesType)
				b = protowire.AppendString(b, a)
			}
			b = endMsg(b, fst)
		}
		b = appendVarint(b, 7, uint64(r.MaxDataPoints))
		b = endMsg(b, st)
	}
	return b
}

func str(f field) (string, error) {
	if err := wrong(f, protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.buf), nil
}

func varint(f field) (uint64, error) {
	if err := wrong(f, protowire.VarintType); err != nil {
		return 0, err
	}
	return f.u, nil
}

func decodeFilteringFunction(b []byte) (FilteringFunction, error) {
	var ff FilteringFunction
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return ff, err
		}
		b = rest
		switch f.num {
		case 1:
			if ff.Name, err = str(f); err != nil {
				return ff, err
			}
		case 2:
			s, err := str(f)
			if err != nil {
				return ff, err
			}
			if len(ff.Arguments) >= MaxItems {
				return ff, ErrTooMany
			}
			ff.Arguments = append(ff.Arguments, s)
		}
	}
	return ff, nil
}

func decodeFetchRequest(b []byte) (FetchRequest, error) {
	var r FetchRequest
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return r, err
		}
		b = rest
		var u uint64
		switch f.num {
		case 1:
			r.Name, err = str(f)
		case 2:
			u, err = varint(f)
			r.StartTime = int64(u)
		case 3:
			u, err = varint(f)
			r.StopTime = int64(u)
		case 4:
			u, err = varint(f)
			r.HighPrecisionTimestamps = u != 0
		case 5:
			r.PathExpression, err = str(f)
		case 6:
			if err = wrong(f, protowire.BytesType); err != nil {
				break
			}
			if len(r.FilterFunctions) >= MaxItems {
				return r, ErrTooMany
			}
			var ff FilteringFunction
			ff, err = decodeFilteringFunction(f.buf)
			r.FilterFunctions = append(r.FilterFunctions, ff)
		case 7:
			u, err = varint(f)
			r.MaxDataPoints = int64(u)
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
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
	for _, m := range r.Metrics {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, m)
	}
	b = appendVarint(b, 2, uint64(r.StartTime))
	b = appendVarint(b, 3, uint64(r.StopTime))
	return appendBool(b, 4, r.HighPrecisionTimestamps)
}

// DecodeMultiGlobRequest decodes a v3 MultiGlobRequest message.
func DecodeMultiGlobRequest(b []byte) (*MultiGlobRequest, error) {
	r := &MultiGlobRequest{}
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return nil, fmt.Errorf("decoding multi glob request: %w", err)
		}
		b = rest
		var u uint64
		switch f.num {
		case 1:
			var s string
			if s, err = str(f); err == nil {
				if len(r.Metrics) >= MaxItems {
					return nil, ErrTooMany
				}
				r.Metrics = append(r.Metrics, s)
			}
		case 2:
			u, err = varint(f)
			r.StartTime = int64(u)
		case 3:
			u, err = varint(f)
			r.StopTime = int64(u)
		case 4:
			u, err = varint(f)
			r.HighPrecisionTimestamps = u != 0
		}
		if err != nil {
			return nil, fmt.Errorf("decoding multi glob request: %w", err)
		}
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
		for _, a := range m.AppliedFunctions {
			b = protowire.AppendTag(b, 10, protowire.BytesType)
			b = protowire.AppendString(b, a)
		}
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
	for p := buf; len(p) > 0; {
		g, rest, err := next(p)
		if err != nil {
			return m, fmt.Errorf("decoding fetch response: %w", err)
		}
		p = rest
		var u uint64
		switch g.num {
		case 1:
			m.Name, err = str(g)
		case 2:
			m.PathExpression, err = str(g)
		case 3:
			m.ConsolidationFunc, err = str(g)
		case 4:
			u, err = varint(g)
			m.StartTime = int64(u)
		case 5:
			u, err = varint(g)
			m.StopTime = int64(u)
		case 6:
			u, err = varint(g)
			m.StepTime = int64(u)
		case 7:
			if err = wrong(g, protowire.Fixed32Type); err == nil {
				m.XFilesFactor = math.Float32frombits(uint32(g.u))
			}
		case 8:
			u, err = varint(g)
			m.HighPrecisionTimestamps = u != 0
		case 9:
			m.Values, err = doubles(m.Values, g)
		case 10:
			var s string
			if s, err = str(g); err == nil {
				m.AppliedFunctions = append(m.AppliedFunctions, s)
			}
		case 11:
			u, err = varint(g)
			m.RequestStartTime = int64(u)
		case 12:
			u, err = varint(g)
			m.RequestStopTime = int64(u)
		}
		if err != nil {
			return m, fmt.Errorf("decoding fetch response: %w", err)
		}
	}
	return m, nil
}

// AppendCapabilityResponse appends a v3 CapabilityResponse message.
func AppendCapabilityResponse(b []byte, c *CapabilityResponse) []byte {
	for _, p := range c.SupportedProtocols {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, p)
	}
	b = appendString(b, 2, c.Name)
	b = appendBool(b, 3, c.HighPrecisionTimestamps)
	b = appendBool(b, 4, c.SupportFilteringFunctions)
	b = appendBool(b, 5, c.LikeSplittedRequests)
	return appendBool(b, 6, c.SupportStreaming)
}

// DecodeCapabilityResponse decodes a v3 CapabilityResponse message.
func DecodeCapabilityResponse(b []byte) (*CapabilityResponse, error) {
	c := &CapabilityResponse{}
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return nil, err
		}
		b = rest
		var u uint64
		switch f.num {
		case 1:
			var s string
			if s, err = str(f); err == nil {
				c.SupportedProtocols = append(c.SupportedProtocols, s)
			}
		case 2:
			c.Name, err = str(f)
		case 3, 4, 5, 6:
			u, err = varint(f)
			v := u != 0
			switch f.num {
			case 3:
				c.HighPrecisionTimestamps = v
			case 4:
				c.SupportFilteringFunctions = v
			case 5:
				c.LikeSplittedRequests = v
			default:
				c.SupportStreaming = v
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}
