#!/bin/sh
# One-shot job (temporalio/admin-tools), after the Temporal server is healthy: creates the
# namespace the trip-saga processes use and registers the trip's custom search attributes
# (src/shared/search-attributes.ts). Idempotent: existing ones are left alone.
# The temporal CLI reads TEMPORAL_ADDRESS itself; TEMPORAL_NAMESPACE is passed explicitly.
set -eu
: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-7d}"
SEARCH_ATTRIBUTES="TripStatus CustomerId TripStep"

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -ge 60 ] && { echo "Temporal at $TEMPORAL_ADDRESS is not healthy"; exit 1; }
  echo "waiting for Temporal at $TEMPORAL_ADDRESS ($tries)"
  sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "namespace $NAMESPACE created (retention $RETENTION)"
fi

# A new namespace takes a few seconds to reach every frontend's cache.
tries=0
until existing="$(temporal operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null)"; do
  tries=$((tries + 1))
  [ "$tries" -ge 30 ] && { echo "namespace $NAMESPACE is not visible yet"; exit 1; }
  sleep 2
done
for name in $SEARCH_ATTRIBUTES; do
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type Keyword
    echo "search attribute $name (Keyword) registered"
  fi
done
echo "namespace $NAMESPACE ready"
