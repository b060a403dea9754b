{{ brand_rollup('day') }}
