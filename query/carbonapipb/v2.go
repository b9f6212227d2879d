package carbonapipb

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// GlobMatch is one find result (v2 and v3).
type GlobMatch struct {
	Path   string
	IsLeaf bool
}

// GlobResponse answers one find query (v2 and v3).
type GlobResponse struct {
	Name    string
	Matches []GlobMatch
}

// FetchResponseV2 is carbonapi_v2_pb.FetchResponse: absent slots have
// IsAbsent true and Value 0.
type FetchResponseV2 struct {
	Name                          string
	StartTime, StopTime, StepTime int32
	Values                        []float64
	IsAbsent                      []bool
}

func appendGlobResponseBody(b []byte, g *GlobResponse) []byte {
	b = appendString(b, 1, g.Name)
	for i := range g.Matches {
		var st int
		b, st = beginMsg(b, 2)
		b = appendString(b, 1, g.Matches[i].Path)
		b = appendBool(b, 2, g.Matches[i].IsLeaf)
		b = endMsg(b, st)
	}
	return b
}

// AppendGlobResponse appends a v2 GlobResponse message.
func AppendGlobResponse(b []byte, g *GlobResponse) []byte {
	return appendGlobResponseBody(b, g)
}

// AppendMultiFetchV2 appends a v2 MultiFetchResponse message.
func AppendMultiFetchV2(b []byte, metrics []FetchResponseV2) []byte {
	for i := range metrics {
		m := &metrics[i]
		var st int
		b, st = beginMsg(b, 1)
		b = appendString(b, 1, m.Name)
		b = appendVarint(b, 2, uint64(int64(m.StartTime)))
		b = appendVarint(b, 3, uint64(int64(m.StopTime)))
		b = appendVarint(b, 4, uint64(int64(m.StepTime)))
		b = appendPackedDoubles(b, 5, m.Values)
		if len(m.IsAbsent) > 0 {
			b = protowire.AppendTag(b, 6, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(len(m.IsAbsent)))
			for _, a := range m.IsAbsent {
				if a {
					b = append(b, 1)
				} else {
					b = append(b, 0)
				}
			}
		}
		b = endMsg(b, st)
	}
	return b
}

func decodeGlobMatch(b []byte) (GlobMatch, error) {
	var m GlobMatch
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.Path, err = str(f)
		case 2:
			m.IsLeaf, err = boolField(f)
		}
		return err
	})
	return m, err
}

// DecodeGlobResponse decodes a GlobResponse message (v2, or one entry of
// a v3 MultiGlobResponse).
func DecodeGlobResponse(b []byte) (*GlobResponse, error) {
	g := &GlobResponse{}
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			g.Name, err = str(f)
		case 2:
			g.Matches, err = message(g.Matches, f, decodeGlobMatch)
			if err != nil && err != ErrTooMany {
				err = fmt.Errorf("decoding glob match: %w", err)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DecodeMultiFetchV2 decodes a v2 MultiFetchResponse message.
func DecodeMultiFetchV2(b []byte) ([]FetchResponseV2, error) {
	return decodeRepeated(b, "", decodeFetchV2)
}

// decodeFetchV2 decodes one v2 FetchResponse message.
func decodeFetchV2(buf []byte, _ int) (FetchResponseV2, error) {
	var m FetchResponseV2
	err := eachField(buf, func(g field) (err error) {
		switch g.num {
		case 1:
			m.Name, err = str(g)
		case 2, 3, 4:
			var u uint64
			u, err = varint(g)
			v := int32(u)
			switch g.num {
			case 2:
				m.StartTime = v
			case 3:
				m.StopTime = v
			default:
				m.StepTime = v
			}
		case 5:
			m.Values, err = doubles(m.Values, g)
		case 6:
			m.IsAbsent, err = bools(m.IsAbsent, g)
		}
		return err
	})
	if err != nil {
		return m, fmt.Errorf("decoding fetch response: %w", err)
	}
	return m, nil
}
