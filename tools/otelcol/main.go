// Command otelcol is the smallest OpenTelemetry Collector the codexhost tests
// need: the OTLP receiver and the file exporter, nothing else. The tests of
// cmd/codexhost (TestOTLPCollectorReceivesRun) start it on 127.0.0.1 and read
// back, from the file it writes, the traces and decision logs of a real-codex
// run. It is built by `make otelcol` into .cache/bin/otelcol at the versions
// this module's go.mod pins; it is not part of codexhost.
//
// The collector's own telemetry is off (no meter or tracer provider, so no
// extra exporter is linked in); its log goes to stderr.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.uber.org/zap"
)

type telemetryConfig struct{}

func factories() (otelcol.Factories, error) {
	receivers, err := otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory())
	if err != nil {
		return otelcol.Factories{}, err
	}
	exporters, err := otelcol.MakeFactoryMap[exporter.Factory](fileexporter.NewFactory())
	if err != nil {
		return otelcol.Factories{}, err
	}
	return otelcol.Factories{
		Receivers: receivers,
		Exporters: exporters,
		Telemetry: telemetry.NewFactory(
			func() component.Config { return &telemetryConfig{} },
			telemetry.WithCreateLogger(func(context.Context, telemetry.LoggerSettings, component.Config) (*zap.Logger, component.ShutdownFunc, error) {
				cfg := zap.NewProductionConfig()
				cfg.OutputPaths = []string{"stderr"}
				l, err := cfg.Build()
				if err != nil {
					return nil, nil, err
				}
				return l, func(context.Context) error { _ = l.Sync(); return nil }, nil
			}),
		),
	}, nil
}

func main() {
	info := component.BuildInfo{
		Command:     "otelcol",
		Description: "OpenTelemetry Collector for the codexhost tests (otlp receiver, file exporter)",
		Version:     "v0.161.0",
	}
	set := otelcol.CollectorSettings{
		BuildInfo: info,
		Factories: factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory()},
				DefaultScheme:     "file",
			},
		},
	}
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
