-- The built-in freight engine: per courier service, a price for the first kg and each further kg, by destination
-- zone. A rate row matches a destination by regency/city (most specific), else by province, else a national
-- default (both NULL). A price of 0 is free shipping.
CREATE TABLE IF NOT EXISTS freight_services (
  courier_code VARCHAR(20) NOT NULL,
  service_code VARCHAR(20) NOT NULL,
  service_name VARCHAR(60) NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  PRIMARY KEY (courier_code, service_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS freight_rates (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  courier_code VARCHAR(20) NOT NULL,
  service_code VARCHAR(20) NOT NULL,
  province VARCHAR(100) NULL,
  city VARCHAR(100) NULL,
  first_kg_price INT UNSIGNED NOT NULL,
  next_kg_price INT UNSIGNED NOT NULL,
  etd_min_days TINYINT UNSIGNED NOT NULL,
  etd_max_days TINYINT UNSIGNED NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_freight_rates_zone (courier_code, service_code, province, city),
  KEY idx_freight_rates_province (province),
  KEY idx_freight_rates_city (city),
  CONSTRAINT fk_freight_rates_service FOREIGN KEY (courier_code, service_code)
    REFERENCES freight_services (courier_code, service_code) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
