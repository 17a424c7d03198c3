// Allure Report 3 configuration: one self-contained HTML file for readiness reviews.
export default {
  name: "Deploy pipeline validation",
  plugins: {
    awesome: {
      options: { singleFile: true, reportLanguage: "en", groupBy: ["feature"] },
    },
  },
};
