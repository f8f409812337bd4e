-- Responses of the Responses API created with `store: true`: the response object as
-- the caller saw it, and the input items of its whole conversation (those of the
-- responses it continues included), both as JSON text.
CREATE TABLE responses (
    id          TEXT   PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    response    TEXT   NOT NULL,
    input_items TEXT   NOT NULL
);
