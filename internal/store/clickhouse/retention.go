package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// DropExpiredPartitions drops, on every node, the daily partitions of the
// data tables that ended more than RetentionDays before now, and returns
// how many it dropped. It is the retention of servers without TTL (18.16)
// and harmless on newer ones; run it periodically (e.g. hourly) from one
// process. Dropping a partition is instant and frees the disk at once.
func (s *Store) DropExpiredPartitions(ctx context.Context, now time.Time) (int, error) {
	if s.opts.RetentionDays <= 0 {
		return 0, nil
	}
	cutoff := now.UTC().AddDate(0, 0, -s.opts.RetentionDays).Format("20060102")
	d := ddl{s.schemaConfig()}
	dropped := 0
	for _, n := range s.nodes {
		for _, t := range dataTables {
			local := d.local(t)
			rows, err := n.query(ctx, fmt.Sprintf(`SELECT DISTINCT partition FROM system.parts
				WHERE database = %s AND table = %s AND active AND toUInt32OrZero(partition) < %s`,
				quoteString(s.opts.Database), quoteString(local), cutoff))
			if err != nil {
				return dropped, fmt.Errorf("list partitions of %s on %s: %w", local, n, err)
			}
			for _, r := range rows {
				p, err := str(r[0])
				if err != nil {
					return dropped, err
				}
				// Partition ids of toYYYYMMDD are plain numbers; anything
				// else is not ours to drop.
				if !isDigits(p) {
					continue
				}
				if err := n.exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %s", local, p)); err != nil {
					return dropped, fmt.Errorf("drop partition %s of %s on %s: %w", p, local, n, err)
				}
				dropped++
			}
		}
	}
	return dropped, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
