package ingesttest

// PyCarbonlinkClient is the start of a python3 script (run it with
// testenv.RunPython, the carbonlink address "host:port" as the first
// argument) that speaks carbonlink exactly as graphite-web's CarbonLinkPool
// does: struct.pack("!L") + pickle.dumps(request, protocol), replies read
// with an unpickler that refuses every global, like graphite's unpickle.
// What follows it calls query(request[, protocol]) (protocol -1 unless
// given) and prints the answers.
const PyCarbonlinkClient = `
import pickle, socket, struct, sys, io
class Safe(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError("global %s.%s" % (module, name))
def recv_exactly(conn, n):
    buf = b''
    while len(buf) < n:
        data = conn.recv(n - len(buf))
        if not data:
            raise Exception("Connection lost")
        buf += data
    return buf
host, port = sys.argv[1].rsplit(":", 1)
conn = socket.create_connection((host, int(port)), 5.0)
def query(req, proto=-1):
    body = pickle.dumps(req, protocol=proto)
    conn.sendall(struct.pack("!L", len(body)) + body)
    size = struct.unpack("!L", recv_exactly(conn, 4))[0]
    return Safe(io.BytesIO(recv_exactly(conn, size))).load()
`
