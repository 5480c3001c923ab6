#!/bin/sh
# Create oO's namespace and register its search attributes (temporalio/admin-tools).
# The dev server does both at start (`oo dev`); a cluster needs them once. Idempotent.
# The `temporal` CLI reads TEMPORAL_ADDRESS itself; the namespace is passed explicitly, since
# the `operator namespace` commands do not take it from TEMPORAL_NAMESPACE.
set -eu

# The frontend may answer before the namespace registry has caught up: retry a little.
retry() {
    n=0
    until "$@"; do
        n=$((n + 1))
        if [ "$n" -ge 30 ]; then
            echo "giving up: $*" >&2
            return 1
        fi
        sleep 2
    done
}

retry temporal operator cluster health

ns=${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}

if temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1; then
    echo "namespace ${ns}: exists"
else
    retry temporal operator namespace create --namespace "$ns" --retention "${NAMESPACE_RETENTION:-72h}"
fi

for name in ${SEARCH_ATTRIBUTES:?set SEARCH_ATTRIBUTES}; do
    if retry temporal operator search-attribute list --namespace "$ns" --output json | grep -q "\"${name}\""; then
        echo "search attribute ${name}: exists"
    else
        retry temporal operator search-attribute create --namespace "$ns" --name "$name" --type Keyword
    fi
done
