package pickle

import "fmt"

// CarbonlinkRequest is a decoded carbonlink (cache query) request, as sent by
// graphite-web's CarbonLinkPool:
//
//	{'type': 'cache-query', 'metric': path}
//	{'type': 'cache-query-bulk', 'metrics': [path, ...]}
//	{'type': 'get-metadata', 'metric': path, 'key': key}
//	{'type': 'set-metadata', 'metric': path, 'key': key, 'value': v}
//
// Byte fields alias the frame and are valid until the Decoder's next call.
type CarbonlinkRequest struct {
	Type    []byte
	Metric  []byte
	Metrics [][]byte
	Key     []byte
	// Value is set-metadata's value when it is a str/bytes (else nil).
	Value []byte
}

// Request decodes one carbonlink request pickle (without its length prefix).
// Metrics is appended to req.Metrics[:0] so a reused request does not
// allocate. Any dict shape is accepted; missing keys stay empty and the
// caller decides what a request type needs.
func (d *Decoder) Request(frame []byte, req *CarbonlinkRequest) error {
	allow := d.AllowDicts
	d.AllowDicts = true
	root, err := d.Decode(frame)
	d.AllowDicts = allow
	if err != nil {
		return err
	}
	metrics := req.Metrics[:0]
	*req = CarbonlinkRequest{Metrics: metrics}
	if root.Kind() != KindDict {
		return fmt.Errorf("%w: carbonlink request is a %s, want dict", ErrMalformed, root.Kind())
	}
	str := func(key string) []byte {
		if v, ok := root.Get(key); ok {
			return v.Bytes()
		}
		return nil
	}
	req.Type = str("type")
	if req.Type == nil {
		return fmt.Errorf("%w: carbonlink request without a type", ErrMalformed)
	}
	req.Metric = str("metric")
	req.Key = str("key")
	req.Value = str("value")
	if ms, ok := root.Get("metrics"); ok && (ms.Kind() == KindList || ms.Kind() == KindTuple) {
		for i := 0; i < ms.Len(); i++ {
			if b := ms.Index(i).Bytes(); b != nil {
				req.Metrics = append(req.Metrics, b)
			}
		}
	}
	return nil
}
