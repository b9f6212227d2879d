"""Ring oracle: python carbon's ConsistentHashRing (graphite-carbon).

argv: hash_type instance... ; stdin: metric names, one a line.
stdout: JSON {metric: instance} for nodes ('127.0.0.1', instance).
"""
import json
import sys

from carbon.hashing import ConsistentHashRing

hash_type, instances = sys.argv[1], sys.argv[2:]
ring = ConsistentHashRing([("127.0.0.1", i) for i in instances], hash_type=hash_type)
json.dump({m: ring.get_node(m)[1] for m in sys.stdin.read().split()}, sys.stdout)
