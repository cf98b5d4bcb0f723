ALTER TABLE notices DROP COLUMN supervision_order_id;
DROP TABLE supervision_order_counters;
DROP TABLE supervision_orders;
