-- (i) the ceiling of a durable write: one single-row INSERT, committed on its own.
INSERT INTO bench_insert (client_id) VALUES (:client_id);
