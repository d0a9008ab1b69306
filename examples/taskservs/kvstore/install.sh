set -eu
mkdir -p /var/lib/kv /usr/local/bin
cat > /usr/local/bin/kv <<'KV'
#!/bin/sh
set -eu
dir=/var/lib/kv
case "${1:-}" in
  set) printf '%s' "$3" > "$dir/$2" ;;
  get) cat "$dir/$2" ;;
  del) rm -f "$dir/$2" ;;
  *) echo "usage: kv set KEY VALUE | kv get KEY | kv del KEY" >&2; exit 2 ;;
esac
KV
chmod +x /usr/local/bin/kv
echo "kvstore installed"
