-- The schema briefbot 0.1.0 created with Base.metadata.create_all (sqlite).
-- Kept to test that such a database upgrades in place; never edit it.

CREATE TABLE articles_seen (
	article_id VARCHAR(200) NOT NULL,
	content_hash VARCHAR(128) NOT NULL,
	first_seen DATETIME NOT NULL,
	PRIMARY KEY (article_id, content_hash)
);

CREATE TABLE feedback (
	id INTEGER NOT NULL,
	platform VARCHAR(32) NOT NULL,
	user_id VARCHAR(128) NOT NULL,
	question TEXT NOT NULL,
	article VARCHAR(200),
	section TEXT,
	value INTEGER NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE subscriptions (
	id INTEGER NOT NULL,
	platform VARCHAR(32) NOT NULL,
	workspace VARCHAR(128) NOT NULL,
	channel VARCHAR(128) NOT NULL,
	times VARCHAR(200) NOT NULL,
	days VARCHAR(64) NOT NULL,
	cron VARCHAR(200),
	timezone VARCHAR(64) NOT NULL,
	mode VARCHAR(8) NOT NULL,
	empty VARCHAR(8) NOT NULL,
	created_by VARCHAR(128) NOT NULL,
	created_by_name VARCHAR(200) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	last_delivery DATETIME,
	consecutive_failures INTEGER NOT NULL,
	paused BOOLEAN NOT NULL,
	paused_reason VARCHAR(500),
	PRIMARY KEY (id),
	CONSTRAINT uq_subscription_channel UNIQUE (platform, workspace, channel)
);

CREATE TABLE deliveries (
	id INTEGER NOT NULL,
	subscription_id INTEGER NOT NULL,
	scheduled_for DATETIME NOT NULL,
	kind VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	error VARCHAR(500),
	note VARCHAR(500),
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	sent_at DATETIME,
	PRIMARY KEY (id),
	CONSTRAINT uq_delivery_slot UNIQUE (subscription_id, scheduled_for),
	FOREIGN KEY(subscription_id) REFERENCES subscriptions (id)
);

CREATE INDEX ix_deliveries_subscription_id ON deliveries (subscription_id);
